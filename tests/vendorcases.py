"""Vendor log layouts as their vendors document them, with C2 contacts and near misses (for the hunt tests).

Each builder returns (file text, the reader that must detect it, {line: (indicator, source.ip,
tracehound.host, @timestamp)}). Near misses (look-alike domains, an IP sharing a prefix with the C2
address, a URL-only host) must not be findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from logfixtures import C2, C2_IP, URL_IND

NEAR_IP = "162.0.229.15"  # shares a prefix with C2_IP
NEAR_DOMAIN = f"not{C2}"  # look-alike, not a subdomain
Hit = tuple[str, str, str, str]  # indicator, source.ip, tracehound.host, @timestamp
Case = tuple[str, str, dict[int, Hit]]


def fortigate() -> Case:
    head = ('date={d} time={t} devname="FGT60F" devid="FGT60FTK21000000" eventtime={e} tz="+0200" '
            'logid="{logid}" type="{type}" subtype="{sub}" level="notice" vd="root" ')
    lines = [
        # UTM web filter (FortiOS log reference: type=utm subtype=webfilter), hostname= + url= path
        head.format(d="2023-03-28", t="12:00:01", e=1680000001000000000, logid="0316013057", type="utm", sub="webfilter")
        + f'policyid=1 sessionid=1001 srcip=10.0.0.5 srcport=50001 srcintf="internal" srcintfrole="lan" '
          f'dstip={C2_IP} dstport=443 dstintf="wan1" dstintfrole="wan" proto=6 service="HTTPS" '
          f'hostname="www.{C2}" profile="default" action="passthrough" reqtype="direct" url="/x/y.js" '
          'sentbyte=100 rcvdbyte=200 direction="outgoing" msg="URL belongs to an allowed category in policy" '
          'cat=52 catdesc="Information Technology"',
        # traffic forward to a near-miss IP and a look-alike host: no finding
        head.format(d="2023-03-28", t="12:00:02", e=1680000002000000000, logid="0000000013", type="traffic",
                    sub="forward")
        + f'srcip=10.0.0.6 srcport=50002 srcintf="internal" dstip={NEAR_IP} dstport=443 dstintf="wan1" '
          f'sessionid=1002 proto=6 action="accept" policyid=1 service="HTTPS" hostname="{NEAR_DOMAIN}" '
          'trandisp="snat" duration=10 sentbyte=1 rcvdbyte=2',
        # traffic forward to the C2 address, no host name
        head.format(d="2023-03-28", t="12:00:03", e=1680000003000000000, logid="0000000013", type="traffic",
                    sub="forward")
        + f'srcip=10.0.0.7 srcport=50003 srcintf="internal" srcname="WS-07" dstip={C2_IP} dstport=443 '
          'dstintf="wan1" sessionid=1003 proto=6 action="accept" policyid=1 service="HTTPS"',
        # FortiProxy (same key=value body, type="traffic" subtype="http-transaction")
        '<189>date=2023-03-28 time=12:00:04 devname="FPX400" devid="FPX400E000000" eventtime=1680000004 '
        'tz="+0200" logid="0000000040" type="traffic" subtype="http-transaction" level="notice" vd="root" '
        'srcip=10.0.0.8 srcport=50004 dstip=140.82.121.4 dstport=443 hostname="github.com" '
        'url="https://github.com/IconStorages/images/main/icon1.ico" httpmethod="GET" user="carol" '
        'action="passthrough"',
        # FortiProxy to github.com but not the indicator's path: no finding
        '<189>date=2023-03-28 time=12:00:05 devname="FPX400" devid="FPX400E000000" tz="+0200" '
        'type="traffic" subtype="http-transaction" srcip=10.0.0.8 srcport=50005 dstip=140.82.121.4 '
        'dstport=443 hostname="github.com" url="https://github.com/torvalds/linux" httpmethod="GET"',
        # FortiGate DNS log (type="utm" subtype="dns"): a look-alike query whose answer is the C2 address
        head.format(d="2023-03-28", t="12:00:07", e=1680000007000000000, logid="1501054802", type="utm", sub="dns")
        + f'srcip=10.0.0.10 srcport=53000 dstip=10.0.0.1 dstport=53 sessionid=1007 proto=17 qname="{NEAR_DOMAIN}" '
          f'qtype="A" qtypeval=1 qclass="IN" ipaddr="{C2_IP}, 93.184.216.34" msg="Domain is monitored" action="pass"',
        # FortiGate with `set format csv`: the same pairs separated by commas
        'date=2023-03-28,time=12:00:06,devname="FGT60F",devid="FGT60FTK21000000",tz="+0200",logid="0000000013",'
        f'type="traffic",subtype="forward",srcip=10.0.0.9,srcport=50006,dstip={C2_IP},dstport=443,action="accept"',
    ]
    return "\n".join(lines) + "\n", "kv", {
        6: (C2_IP, "10.0.0.10", "10.0.0.10", "2023-03-28T10:00:07Z"),
        7: (C2_IP, "10.0.0.9", "10.0.0.9", "2023-03-28T10:00:06Z"),
        1: (C2, "10.0.0.5", "10.0.0.5", "2023-03-28T10:00:01Z"),
        3: (C2_IP, "10.0.0.7", "WS-07", "2023-03-28T10:00:03Z"),
        4: (URL_IND, "10.0.0.8", "10.0.0.8", "2023-03-28T10:00:04Z"),
    }


def leef() -> Case:
    lines = [
        # LEEF 1.0 (tab-delimited attributes), Check Point Log Exporter style, syslog header in front
        "<134>Mar 28 10:00:06 cpmgmt LEEF:1.0|Check Point|VPN-1 & FireWall-1|1.0|Accept|"
        + "\t".join(["cat=Accept", "devTime=Mar 28 2023 10:00:06", "devTimeFormat=MMM dd yyyy HH:mm:ss",
                     "src=10.0.1.5", "dst=" + C2_IP, "srcPort=50010", "dstPort=443", "proto=6", "usrName=dave"]),
        # LEEF 2.0 with '^' as delimiter: near-miss address
        f"LEEF:2.0|Lancope|StealthWatch|6.5|41|^|src=10.0.1.6^dst={NEAR_IP}^sev=5^srcPort=81^dstPort=21"
        "^devTime=1680000007000",
        # LEEF 2.0 with a hex delimiter and a URL attribute
        "LEEF:2.0|Check Point|URL Filtering|1.0|Allow|x5E|src=10.0.1.7^dst=93.184.216.34^devTime=1680000008000"
        f"^resource=http://cdn.{C2}/p^usrName=erin",
        # Juniper SRX structured syslog (RFC 5424 SD-params)
        "<14>1 2023-03-28T10:00:09.000Z srx340 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 "
        f'source-address="10.0.1.8" source-port="50011" destination-address="{C2_IP}" destination-port="443" '
        'service-name="junos-https" nat-source-address="198.51.100.1" nat-source-port="1024" '
        'protocol-id="6" policy-name="trust-untrust" source-zone-name="trust" destination-zone-name="untrust"]',
    ]
    lines.append(  # Check Point Log Exporter LEEF 2.0: no delimiter field, tab-separated attributes
        "<134>1 2023-03-28T10:00:10Z cpmgmt CheckPoint 1 - - LEEF:2.0|Check Point|Log Update|1.0|Check Point Log|"
        + "\t".join(["cat=Accept", "devTime=1680000010", "src=10.0.1.9", "dst=93.184.216.34",
                     f"resource=https://files.{C2}/u", "product=URL Filtering"]))
    return "\n".join(lines) + "\n", "kv", {
        5: (C2, "10.0.1.9", "10.0.1.9", "2023-03-28T10:40:10Z"),
        1: (C2_IP, "10.0.1.5", "10.0.1.5", "2023-03-28T10:00:06Z"),
        3: (C2, "10.0.1.7", "10.0.1.7", "2023-03-28T10:40:08Z"),
        4: (C2_IP, "10.0.1.8", "10.0.1.8", "2023-03-28T10:00:09Z"),
    }


def junos_flow() -> Case:
    # Junos system log reference: RT_FLOW_SESSION_* "session created src/port->dst/port service nat... "
    h = "Mar 28 10:03:{:02d} srx01 RT_FLOW: "
    lines = [
        h.format(30) + f"RT_FLOW_SESSION_CREATE: session created 10.10.0.30/50030->{C2_IP}/443 junos-https "
                       f"198.51.100.1/1030->{C2_IP}/443 source-nat-rule None 6 trust-untrust trust untrust 4001",
        h.format(31) + f"RT_FLOW_SESSION_DENY: session denied 10.10.0.31/50031->{NEAR_IP}/443 junos-https 6(0) "
                       "default-deny trust untrust",
        h.format(32) + f"RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.10.0.32/50032->{C2_IP}/443 junos-https "
                       f"198.51.100.1/1032->{C2_IP}/443 None None 6 trust-untrust trust untrust 4002 10(900) 12(4000) 30",
    ]
    return "\n".join(lines) + "\n", "junos-flow", {
        1: (C2_IP, "10.10.0.30", "10.10.0.30", "2023-03-28T10:03:30Z"),
        3: (C2_IP, "10.10.0.32", "10.10.0.32", "2023-03-28T10:03:32Z"),
    }


def asa() -> Case:
    h = "Mar 28 2023 10:00:{:02d} asa01 : "
    lines = [
        h.format(10) + f"%ASA-6-302013: Built outbound TCP connection 9 for outside:{C2_IP}/443 ({C2_IP}/443)"
                       " to inside:10.1.1.2/53496 (198.51.100.2/53496)",
        h.format(11) + f"%ASA-6-302014: Teardown TCP connection 9 for outside:{C2_IP}/443 to inside:10.1.1.2/53496"
                       " duration 0:00:30 bytes 1024 TCP FINs",
        h.format(12) + f"%ASA-6-302015: Built outbound UDP connection 10 for outside:{NEAR_IP}/53 ({NEAR_IP}/53)"
                       " to inside:10.1.1.3/5353 (198.51.100.2/5353)",
        h.format(13) + f"%ASA-6-302016: Teardown UDP connection 11 for outside:{C2_IP}/53 to inside:10.1.1.4/5354"
                       " duration 0:02:01 bytes 120",
        h.format(14) + f"%ASA-4-106023: Deny tcp src inside:10.1.1.5/50000 dst outside:{C2_IP}/8443"
                       ' by access-group "inside_access_out" [0x0, 0x0]',
        h.format(15) + "%ASA-6-305011: Built dynamic TCP translation from inside:10.1.1.6/50001 to"
                       " outside:198.51.100.2/50001",
        # inbound from the C2 address to our server: the host is our end (10.1.1.9)
        h.format(16) + f"%ASA-6-302013: Built inbound TCP connection 12 for outside:{C2_IP}/40000 ({C2_IP}/40000)"
                       " to dmz:10.1.1.9/443 (198.51.100.9/443)",
        h.format(19) + f"%ASA-6-106015: Deny TCP (no connection) from 10.1.1.10/50010 to {C2_IP}/443 flags RST"
                       "  on interface inside",
        h.format(20) + "%ASA-6-302013: Built outbound TCP connection 14 for outside:2001:db8::bad/443 "
                       "(2001:db8::bad/443) to inside:fd00::11/50011 (2001:db8:1::1/50011)",
        # Firepower Threat Defense: the same message ids, and a 430003 connection event
        "<166>2023-03-28T10:00:17Z ftd01 : " + f"%FTD-6-302013: Built outbound TCP connection 13 for outside:"
                                                 f"{C2_IP}/443 ({C2_IP}/443) to inside:10.1.1.7/51000 (198.51.100.2/51000)",
        "<113>2023-03-28T10:00:18Z ftd01 : %FTD-1-430003: DeviceUUID: 0fa1-42, InstanceID: 1, FirstPacketSecond:"
        " 2023-03-28T10:00:18Z, ConnectionID: 7, AccessControlRuleAction: Allow, SrcIP: 10.1.1.8, DstIP:"
        f" 93.184.216.34, SrcPort: 52000, DstPort: 443, Protocol: tcp, DNSQuery: api.{C2}, URL: -",
    ]
    return "\n".join(lines) + "\n", "asa", {
        1: (C2_IP, "10.1.1.2", "10.1.1.2", "2023-03-28T10:00:10Z"),
        2: (C2_IP, "10.1.1.2", "10.1.1.2", "2023-03-28T10:00:11Z"),
        4: (C2_IP, "10.1.1.4", "10.1.1.4", "2023-03-28T10:00:13Z"),
        5: (C2_IP, "10.1.1.5", "10.1.1.5", "2023-03-28T10:00:14Z"),
        7: (C2_IP, C2_IP, "10.1.1.9", "2023-03-28T10:00:16Z"),
        8: (C2_IP, "10.1.1.10", "10.1.1.10", "2023-03-28T10:00:19Z"),
        9: ("2001:db8::bad", "fd00::11", "fd00::11", "2023-03-28T10:00:20Z"),
        10: (C2_IP, "10.1.1.7", "10.1.1.7", "2023-03-28T10:00:17Z"),
        11: (C2, "10.1.1.8", "10.1.1.8", "2023-03-28T10:00:18Z"),
    }


def umbrella() -> Case:
    # Umbrella DNS log order: timestamp, most granular identity, identities, internal ip, external ip,
    # action, query type, response code, domain, categories, most granular identity type, identity types,
    # blocked categories (the documented example has a space after some commas)
    lines = [
        '"2023-03-28 10:00:20","WS-20","WS-20,Site,Network", "10.2.0.20","24.123.132.133","Allowed","1 (A)",'
        f' "NOERROR","www.{C2}.", "Malware","Roaming Computer","Roaming Computer,Site,Network",""',
        '"2023-03-28 10:00:21","ActiveDirectoryUserName","ActiveDirectoryUserName,ADSite,Network", "10.2.0.21",'
        f'"24.123.132.133","Allowed","1 (A)", "NOERROR","{NEAR_DOMAIN}.", "Photo Sharing","AD User",'
        '"AD User,Site,Network",""',
        '"2023-03-28 10:00:22","frank@example.org","frank@example.org,Site", "10.2.0.22","24.123.132.133",'
        f'"Blocked","28 (AAAA)", "NOERROR","mail.{C2}.", "Malware","AD User","AD User,Site","Malware"',
    ]
    return "\n".join(lines) + "\n", "umbrella", {
        1: (C2, "10.2.0.20", "WS-20", "2023-03-28T10:00:20Z"),
        3: (C2, "10.2.0.22", "10.2.0.22", "2023-03-28T10:00:22Z"),
    }


def secure_access_dns_with_header() -> Case:
    # Cisco Secure Access v8/v9 DNS logs name their columns in a header row
    head = ("timestamp,most granular identity,identities,internal ip,external ip,action,query type,response code,"
            "domain,categories,most granular identity type,identity types,blocked categories")
    rows = [f'"2023-03-28 10:00:23","WS-23","WS-23","10.2.0.23","","Allowed","1 (A)","NOERROR","cdn.{C2}.","",'
            '"Roaming Computer","Roaming Computer",""',
            f'"2023-03-28 10:00:24","WS-24","WS-24","10.2.0.24","","Allowed","1 (A)","NOERROR","{NEAR_DOMAIN}.","",'
            '"Roaming Computer","Roaming Computer",""']
    return "\n".join([head, *rows]) + "\n", "umbrella", {2: (C2, "10.2.0.23", "WS-23", "2023-03-28T10:00:23Z")}


def winlogbeat_raw_event_data() -> Case:
    # Winlogbeat without the ECS mapping: the Sysmon fields under winlog.event_data
    ev = {"@timestamp": "2023-03-28T10:01:03Z", "winlog": {"computer_name": "WS-61.corp.example", "event_id": 3,
          "event_data": {"SourceIp": "10.6.0.61", "DestinationIp": C2_IP, "DestinationPort": "443",
                         "Image": "C:\\x\\3CXDesktopApp.exe"}}}
    ev22 = {"@timestamp": "2023-03-28T10:01:04Z", "winlog": {"computer_name": "WS-61.corp.example", "event_id": 22,
            "event_data": {"QueryName": NEAR_DOMAIN, "QueryResults": "type:  5 edge.example.net;::ffff:93.184.216.34;"}}}
    ev22b = {"@timestamp": "2023-03-28T10:01:05Z", "winlog": {"computer_name": "WS-61.corp.example", "event_id": 22,
             "event_data": {"QueryName": "cdn.example.net", "QueryResults": f"::ffff:{C2_IP};"}}}
    return "\n".join(json.dumps(e) for e in (ev, ev22, ev22b)) + "\n", "jsonl", {
        1: (C2_IP, "10.6.0.61", "WS-61.corp.example", "2023-03-28T10:01:03Z"),
        3: (C2_IP, "", "WS-61.corp.example", "2023-03-28T10:01:05Z"),
    }


def route53_resolver() -> Case:
    def rec(ts: str, name: str, src: str, inst: str, answer: str = "93.184.216.34") -> str:
        return json.dumps({"version": "1.100000", "account_id": "123456789012", "region": "eu-west-1",
                           "vpc_id": "vpc-0a1b2c3d", "query_timestamp": ts, "query_name": name, "query_type": "A",
                           "query_class": "IN", "rcode": "NOERROR",
                           "answers": [{"Rdata": answer, "Type": "A", "Class": "IN"}],
                           "srcaddr": src, "srcport": "56067", "transport": "UDP",
                           "srcids": {"instance": inst, "resolver_endpoint": "rslvr-in-0123456789"}})
    lines = [rec("2023-03-28T10:00:30Z", f"updates.{C2}.", "10.3.0.30", "i-0d15cd0d3example"),
             rec("2023-03-28T10:00:31Z", f"{NEAR_DOMAIN}.", "10.3.0.31", "i-0aaaaaaa0example"),
             rec("2023-03-28T10:00:32Z", "www.example.com.", "10.3.0.32", "i-0bbbbbbb0example"),
             rec("2023-03-28T10:00:33Z", "cdn.example.net.", "10.3.0.33", "i-0cccccccc0example", answer=C2_IP),
             rec("2023-03-28T10:00:34Z", "cdn.example.org.", "10.3.0.34", "i-0dddddddd0example", answer=NEAR_IP)]
    return "\n".join(lines) + "\n", "jsonl", {
        1: (C2, "10.3.0.30", "i-0d15cd0d3example", "2023-03-28T10:00:30Z"),
        4: (C2_IP, "10.3.0.33", "i-0cccccccc0example", "2023-03-28T10:00:33Z"),
    }


def defender_csv() -> Case:
    header = ("Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,LocalIP,LocalPort,Protocol,"
              "LocalIPType,RemoteIPType,InitiatingProcessFileName,InitiatingProcessAccountName,ReportId")
    rows = [
        f"2023-03-28T10:00:40.1234567Z,d1,ws-40.corp.example,ConnectionSuccess,{C2_IP},443,,10.4.0.40,50040,Tcp,"
        "Private,Public,3CXDesktopApp.exe,alice,1",
        f"2023-03-28T10:00:41.0000000Z,d2,ws-41.corp.example,ConnectionSuccess,{NEAR_IP},443,{NEAR_DOMAIN},"
        "10.4.0.41,50041,Tcp,Private,Public,chrome.exe,bob,2",
        f"2023-03-28T10:00:42.5000000Z,d3,ws-42.corp.example,ConnectionSuccess,93.184.216.34,443,"
        f"https://cdn.{C2}/x,10.4.0.42,50042,Tcp,Private,Public,3CXDesktopApp.exe,carol,3",
    ]
    text = "\ufeff" + header + "\n" + "\n".join(rows) + "\n"  # Excel-style BOM, as the portal export writes
    return text, "csv", {
        2: (C2_IP, "10.4.0.40", "ws-40.corp.example", "2023-03-28T10:00:40.123456Z"),
        4: (C2, "10.4.0.42", "ws-42.corp.example", "2023-03-28T10:00:42.500000Z"),
    }


def pfirewall() -> Case:
    head = ["#Version: 1.5", "#Software: Microsoft Windows Firewall", "#Time Format: Local",
            "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack "
            "tcpwin icmptype icmpcode info path pid", ""]
    rows = [f"2023-03-28 10:00:50 ALLOW TCP 10.5.0.50 {C2_IP} 50050 443 0 - 0 0 0 - - - SEND 4321",
            f"2023-03-28 10:00:51 ALLOW TCP 10.5.0.51 {NEAR_IP} 50051 443 0 - 0 0 0 - - - SEND 4322",
            f"2023-03-28 10:00:52 DROP UDP {C2_IP} 10.5.0.52 53 50052 0 - - - - - - - RECEIVE 4",
            "2023-03-28 10:00:53 ALLOW UDP 10.5.0.53 10.0.0.1 50053 53 0 - - - - - - - SEND 1200"]
    return "\n".join(head + rows) + "\n", "winfw", {
        6: (C2_IP, "10.5.0.50", "10.5.0.50", "2023-03-28T10:00:50Z"),
        8: (C2_IP, C2_IP, "10.5.0.52", "2023-03-28T10:00:52Z"),
    }


def winlogbeat_sysmon() -> Case:
    base = {"agent": {"type": "winlogbeat"}, "ecs": {"version": "8.0.0"}, "host": {"name": "WS-60"},
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "provider_name": "Microsoft-Windows-Sysmon"}}
    ev3 = dict(base, **{"@timestamp": "2023-03-28T10:01:00.123Z", "event": {"code": "3", "category": ["network"]},
                        "source": {"ip": "10.6.0.60", "port": 50060},
                        "destination": {"ip": C2_IP, "port": 443, "domain": "-"},
                        "process": {"executable": "C:\\Users\\a\\AppData\\Local\\Programs\\3CXDesktopApp\\3CXDesktopApp.exe"}})
    ev22 = dict(base, **{"@timestamp": "2023-03-28T10:01:01.456Z", "event": {"code": "22", "category": ["network"]},
                         "dns": {"question": {"name": f"raw.{C2}"}, "resolved_ip": ["93.184.216.34"]}})
    ev22b = dict(base, **{"@timestamp": "2023-03-28T10:01:02Z", "event": {"code": "22"},
                          "dns": {"question": {"name": NEAR_DOMAIN}}})
    return "\n".join(json.dumps(e) for e in (ev3, ev22, ev22b)) + "\n", "jsonl", {
        1: (C2_IP, "10.6.0.60", "WS-60", "2023-03-28T10:01:00.123000Z"),
        2: (C2, "", "WS-60", "2023-03-28T10:01:01.456000Z"),
    }


def squid_combined() -> Case:
    # Squid "logformat combined": %>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh
    lines = [
        f'10.7.0.70 - alice [28/Mar/2023:10:01:10 +0000] "GET http://www.{C2}/x HTTP/1.1" 200 1234 "-" '
        '"Mozilla/5.0" TCP_MISS:HIER_DIRECT',
        f'10.7.0.71 - - [28/Mar/2023:10:01:11 +0000] "CONNECT {NEAR_DOMAIN}:443 HTTP/1.1" 200 5000 "-" '
        '"Mozilla/5.0" TCP_TUNNEL:HIER_DIRECT',
        f'10.7.0.72 - bob [28/Mar/2023:12:01:12 +0200] "CONNECT mail.{C2}:443 HTTP/1.1" 200 5000 "-" '
        '"3CXDesktopApp/18.12.416" TCP_TUNNEL:HIER_DIRECT',
        f'10.7.0.73 - - [28/Mar/2023:10:01:13 +0000] "GET http://{C2}/blocked HTTP/1.1" 403 3900 "-" '
        '"Mozilla/5.0" TCP_DENIED:HIER_NONE',
    ]
    return "\n".join(lines) + "\n", "ncsa", {
        1: (C2, "10.7.0.70", "10.7.0.70", "2023-03-28T10:01:10Z"),
        3: (C2, "10.7.0.72", "10.7.0.72", "2023-03-28T10:01:12Z"),
        4: (C2, "10.7.0.73", "10.7.0.73", "2023-03-28T10:01:13Z"),
    }


CASES: dict[str, Callable[[], Case]] = {
    "fortigate-fortiproxy": fortigate, "junos-flow": junos_flow, "leef-srx": leef, "cisco-asa-ftd": asa, "umbrella-dns": umbrella,
    "route53-resolver": route53_resolver, "defender-csv": defender_csv, "pfirewall": pfirewall,
    "winlogbeat-sysmon": winlogbeat_sysmon, "squid-combined": squid_combined,
    "secure-access-dns-header": secure_access_dns_with_header, "winlogbeat-event-data": winlogbeat_raw_event_data,
}


def mixed_syslog() -> Case:
    lines = [
        "Mar 28 10:02:00 fw-a sshd[811]: Accepted publickey for admin from 10.9.0.1 port 50000 ssh2",
        f"Mar 28 10:02:01 asa01 : %ASA-6-302013: Built outbound TCP connection 1 for outside:{C2_IP}/443"
        f" ({C2_IP}/443) to inside:10.9.0.2/50001 (198.51.100.2/50001)",
        'Mar 28 10:02:02 fgt01 date=2023-03-28 time=10:02:02 devname="FGT" type="utm" subtype="webfilter" '
        f'srcip=10.9.0.3 dstip=93.184.216.34 dstport=443 hostname="www.{C2}" url="/a" action="passthrough"',
        f"Mar 28 10:02:03 proxy01 CEF:0|Zscaler|NSSWeblog|5.0|Allowed|Allowed|3|src=10.9.0.4 dst={NEAR_IP} "
        f"dhost={NEAR_DOMAIN} requestMethod=GET",
        f"Mar 28 10:02:04 cron01 CRON[99]: (root) CMD (curl -s https://{C2}/x)",  # no device format: unparsed
        f"Mar 28 10:02:05 proxy01 CEF:0|Zscaler|NSSWeblog|5.0|Allowed|Allowed|3|src=10.9.0.5 dst=93.184.216.34 "
        f"dhost=api.{C2} requestMethod=GET",
    ]
    return "\n".join(lines) + "\n", "syslog-mixed", {
        2: (C2_IP, "10.9.0.2", "10.9.0.2", "2023-03-28T10:02:01Z"),
        3: (C2, "10.9.0.3", "10.9.0.3", "2023-03-28T10:02:02Z"),
        6: (C2, "10.9.0.5", "10.9.0.5", "2023-03-28T10:02:05Z"),
    }
