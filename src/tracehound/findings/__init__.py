"""Findings: ECS JSON Lines shared by hunt, sweep and scope, read back by the case store."""
