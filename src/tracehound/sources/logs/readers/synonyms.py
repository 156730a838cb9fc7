"""Field-name synonym tables (data, not code): which source field names mean which observation field.

Names are compared case-insensitively with '-' and ' ' read as '_' ("dst-ip" = "DST_IP" = "dst ip");
nested JSON is read through dotted paths ("srcids.instance"). For each target the first name present
with a non-empty value wins, so order matters. docs/log-formats.md lists these tables; `--map
TARGET=FIELD` overrides a target for one run.
"""

from __future__ import annotations

# Header-aware CSV and JSON records (generic csv/jsonl readers).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "@timestamp": ("@timestamp", "timestamp", "query_timestamp", "eventtime", "event_time", "ts", "time",
                   "datetime", "TimeGenerated", "date"),
    "source.ip": ("source.ip", "src_ip", "src-ip", "srcaddr", "srcip", "src", "LocalIP", "local_ip",
                  "SourceIP", "source_address", "client_ip", "clientip", "client", "c-ip", "Internal IP",
                  "winlog.event_data.SourceIp", "RequesterIP"),
    "host.name": ("host.name", "DeviceName", "hostname", "host", "computer", "computer_name",
                  "device", "device_name", "srcids.instance", "winlog.computer_name", "agent.hostname"),
    "user.name": ("user.name", "InitiatingProcessAccountName", "AccountName", "user", "username", "UserName"),
    "destination.domain": ("destination.domain", "dns.question.name", "url.domain", "query_name", "QueryName",
                           "qname", "query", "Domain", "domain", "RemoteDnsName", "dest_host", "dhost",
                           "server_name", "sni", "winlog.event_data.QueryName",
                           "winlog.event_data.DestinationHostname"),
    "destination.ip": ("destination.ip", "RemoteIP", "remote_ip", "dst-ip", "dst_ip", "dest_ip", "dstaddr",
                       "dstip", "dst", "server_ip", "serverip", "DestinationIP", "winlog.event_data.DestinationIp"),
    "destination.port": ("destination.port", "RemotePort", "dst-port", "dest_port", "dst_port", "dstport", "dpt"),
    "url.full": ("url.full", "url.original", "RemoteUrl", "url", "request", "uri", "RequestURL"),
    "url.path": ("url.path", "cs-uri-path", "uri_path"),
    "file.hash.sha256": ("file.hash.sha256", "SHA256", "InitiatingProcessSHA256"),
    "file.hash.sha1": ("file.hash.sha1", "SHA1", "InitiatingProcessSHA1"),
    "file.hash.md5": ("file.hash.md5", "MD5", "InitiatingProcessMD5"),
}

# key=value syslog bodies (FortiGate/FortiProxy, SonicWall, Juniper SRX structured syslog, Check Point,
# LEEF attributes). Here "hostname" is the destination (FortiGate's HTTP Host), never the logging device.
KV_FIELDS: dict[str, tuple[str, ...]] = {
    "@timestamp": ("devTime", "eventtime", "rt", "time", "timestamp", "start_time"),
    "source.ip": ("srcip", "src", "source-address", "src_ip", "src-ip", "sourceip", "source_ip", "sip",
                  "proxy_src_ip", "client_ip", "clientip", "srcaddr", "identSrc"),
    "host.name": ("srcname", "shost", "src_machine_name", "srchost", "src_host"),
    "user.name": ("user", "usrName", "username", "suser", "srcuser", "src_user_name", "unauthuser"),
    "destination.domain": ("hostname", "dhost", "dstname", "http_host", "host", "server_name", "sni", "qname",
                           "dns_query", "query", "domain", "dsthost", "dst_host", "destination-name"),
    "destination.ip": ("dstip", "dst", "destination-address", "dst_ip", "dst-ip", "destinationip",
                       "destination_ip", "dip", "remip", "dstaddr"),
    "destination.port": ("dstport", "dpt", "dstPort", "destination-port", "dst_port", "dport", "service_port"),
    "url.full": ("url", "resource", "request", "requrl", "uri"),
    "url.path": ("obj", "arg", "path"),
    "file.hash.sha256": ("sha256", "filehash", "file_hash", "fileHash"),
    "file.hash.sha1": ("sha1",),
    "file.hash.md5": ("md5", "file_md5"),
}
