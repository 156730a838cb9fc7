"""Real-world log shapes for the hunt soundness tests, written as their vendors document them.

Each builder returns (file name, content, {line number: indicator expected}); every other line
is background or a near miss (look-alike domain, IP prefix, URL path look-alike, CONNECT to the
host of a URL indicator) and must not be reported. Indicators are the built-in 3CX pack's.
"""

from __future__ import annotations

import json

C2 = "akamaicontainer.com"
C2_IP = "162.0.229.159"
URL_IND = "github.com/IconStorages/images"
UA = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) 3CXDesktopApp/18.12.407 Chrome/102.0.5005.167 Electron/19.1.9 Safari/537.36"'
Shape = tuple[str, str, dict[int, str]]


def _shape(name: str, header: list[str], rows: list[tuple[str, str | None]]) -> Shape:
    text = "\n".join(header + [r for r, _ in rows]) + "\n"
    return name, text, {len(header) + i + 1: ind for i, (_, ind) in enumerate(rows) if ind}


def bluecoat() -> Shape:
    """Blue Coat ProxySG 'main' W3C format: host in cs-host, path in cs-uri-path."""
    header = ["#Software: SGOS 6.7.5.3", "#Version: 1.0", "#Start-Date: 2023-03-29 08:00:00", "#Date: 2023-03-29 08:00:00",
              "#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host "
              "cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-hierarchy s-supplier-name "
              "rs(Content-Type) cs(Referer) cs(User-Agent) sc-filter-result cs-categories x-virus-id s-ip",
              "#Remark: 4008170300 \"SG-PROXY-01\" \"10.20.0.10\" \"main\""]

    def row(t: str, ip: str, method: str, scheme: str, host: str, port: int, path: str, ctype: str = "text/html") -> str:
        return (f"2023-03-29 {t} 15 {ip} 200 TCP_NC_MISS 4512 402 {method} {scheme} {host} {port} {path} - - - "
                f"DIRECT {host} {ctype} - {UA} OBSERVED \"Technology/Internet\" - 10.20.0.10")

    rows = [
        (row("08:12:40", "10.20.1.55", "GET", "http", "www.example.com", 80, "/index.html"), None),
        (row("08:12:44", "10.20.1.55", "GET", "http", "github.com", 80, "/IconStorages/images/main/icon12.ico", "image/x-icon"), URL_IND),
        (row("08:12:45", "10.20.1.56", "GET", "https", "github.com", 443, "/IconStoragesX/images/main/icon3.ico"), None),
        (row("08:12:46", "10.20.1.56", "GET", "https", "github.com", 443, "/iconstorages/images/main/icon3.ico"), None),
        (row("08:12:47", "10.20.1.57", "CONNECT", "tcp", "github.com", 443, "/"), None),
        (row("08:12:48", "10.20.1.58", "GET", "https", "github.com", 443, "/%49conStorages/images/main/icon7.ico"), URL_IND),
        (row("08:12:49", "10.20.1.59", "GET", "http", f"www.{C2}", 80, "/v2/storage"), C2),
        (row("08:12:50", "10.20.1.60", "GET", "http", f"not{C2}", 80, "/"), None),
    ]
    return _shape("bluecoat-main.log", header, rows)


ZEEK_HTTP_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri",
                    "referrer", "version", "user_agent", "origin", "request_body_len", "response_body_len", "status_code",
                    "status_msg", "info_code", "info_msg", "tags", "username", "password", "proxied", "orig_fuids",
                    "orig_filenames", "orig_mime_types", "resp_fuids", "resp_filenames", "resp_mime_types"]


def zeek_http() -> Shape:
    """Zeek http.log (TSV): host and uri are separate fields."""
    header = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\thttp",
              "#open\t2023-03-29-08-00-00", "#fields\t" + "\t".join(ZEEK_HTTP_FIELDS),
              "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tstring"
              "\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]\tstring\tstring\tset[string]\tvector[string]"
              "\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]"]

    def row(ts: str, uid: str, src: str, host: str, uri: str) -> str:
        vals = [ts, uid, src, "49733", "140.82.121.4", "80", "1", "GET", host, uri, "-", "1.1", UA.strip('"'), "-", "0",
                "1150", "200", "OK", "-", "-", "(empty)", "-", "-", "-", "-", "-", "-", "FhV8aK2", "-", "image/x-icon"]
        return "\t".join(vals)

    rows = [
        (row("1680077560.101", "CHhAvV", "10.20.1.55", "www.example.com", "/"), None),
        (row("1680077564.220", "ClEkJM", "10.20.1.55", "github.com", "/IconStorages/images/main/icon12.ico"), URL_IND),
        (row("1680077565.330", "C4J4Th", "10.20.1.56", "github.com", "/IconStorages/imagesX/x.ico"), None),
        (row("1680077566.440", "CtPZjS", "10.20.1.57", "raw.githubusercontent.com", "/IconStorages/images/main/icon1.ico"), None),
    ]
    return _shape("http.log", header, rows + [("#close\t2023-03-29-09-00-00", None)])


def suricata_http() -> Shape:
    """Suricata eve.json http events: http.hostname and http.url are separate fields."""
    def ev(ts: str, src: str, host: str, url: str) -> str:
        return json.dumps({"timestamp": f"2023-03-29T{ts}.101234+0000", "flow_id": 1404242121271893, "in_iface": "eth0",
                           "event_type": "http", "src_ip": src, "src_port": 49733, "dest_ip": "140.82.121.4",
                           "dest_port": 80, "proto": "TCP", "tx_id": 0,
                           "http": {"hostname": host, "url": url, "http_user_agent": UA.strip('"'),
                                    "http_content_type": "image/x-icon", "http_method": "GET", "protocol": "HTTP/1.1",
                                    "status": 200, "length": 1150}})

    rows = [
        (ev("08:12:40", "10.20.1.55", "www.example.com", "/"), None),
        (ev("08:12:44", "10.20.1.55", "github.com", "/IconStorages/images/main/icon12.ico"), URL_IND),
        (ev("08:12:45", "10.20.1.56", "github.com", "/IconStorages/imagesX/main/icon12.ico"), None),
    ]
    return _shape("eve.json", [], rows)


def zscaler() -> Shape:
    """Zscaler NSS web log (CSV with a header row): the url column is host/path without a scheme."""
    header = ['"datetime","user","clientip","serverip","url","requestmethod","action","devicehostname","urlcategory"']
    rows = [('"2023-03-29T08:12:40Z","alice@corp","10.20.1.55","93.184.216.34","www.example.com/","GET","Allowed","WS-ALICE","News"', None),
            ('"2023-03-29T08:12:44Z","alice@corp","10.20.1.55","140.82.121.4","github.com/IconStorages/images/main/icon12.ico",'
             '"GET","Allowed","WS-ALICE","Professional Services"', URL_IND),
            ('"2023-03-29T08:12:45Z","bob@corp","10.20.1.56","140.82.121.4","github.com/IconStoragesX/images/x.ico",'
             '"GET","Allowed","WS-BOB","Professional Services"', None)]
    return _shape("zscaler-nss.csv", header, rows)


def panos_url() -> Shape:
    """PAN-OS THREAT/url syslog CSV: the URL field is host/path, the port says the scheme."""
    def threat(t: str, src: str, url: str, port: int) -> str:
        f = [f"Mar 29 {t} PA-3220 1", f"2023/03/29 {t}", "012801096514", "THREAT", "url", "2561", f"2023/03/29 {t}",
             src, "140.82.121.4", "198.51.100.2", "140.82.121.4", "allow-web", "corp\\alice", "", "ssl", "vsys1", "trust",
             "untrust", "ethernet1/2", "ethernet1/1", "fwd", f"2023/03/29 {t}", "47118", "1", "52984", str(port), "37679",
             str(port), "0x40b000", "tcp", "alert", f'"{url}"'] + ["0"] * 43
        return ",".join(f)

    rows = [(threat("08:12:40", "10.20.1.55", "www.example.com/", 443), None),
            (threat("08:12:44", "10.20.1.55", "github.com/IconStorages/images/main/icon12.ico", 443), URL_IND),
            (threat("08:12:45", "10.20.1.56", "github.com/IconStorages/imagesX/icon12.ico", 443), None)]
    return _shape("panos-threat.log", [], rows)


def csv_mapped() -> Shape:
    """A proxy export with host and path in separate columns, read with --map (see MAPPING)."""
    rows = [("2023-03-29T08:12:40Z,10.20.1.55,www.example.com,/index.html", None),
            ("2023-03-29T08:12:44Z,10.20.1.55,github.com,/IconStorages/images/main/icon12.ico", URL_IND),
            ("2023-03-29T08:12:45Z,10.20.1.56,github.com,/IconStoragesX/images", None)]
    return _shape("proxy-export.csv", ["when,client,site,path"], rows)


MAPPING = {"@timestamp": "when", "source.ip": "client", "destination.domain": "site", "url.full": "path"}


# ---- layouts read by some reader that does not know where the destination is (issue 12, item 0) ----

def umbrella_dns() -> Shape:
    """Cisco Umbrella DNS log: CSV, no header row (documented column order)."""
    def row(t: str, ip: str, action: str, qtype: str, domain: str) -> str:
        return (f'"2023-03-29 {t}","WS-ALICE","WS-ALICE,Site-Paris,HQ","{ip}","198.51.100.7","{action}",'
                f'"{qtype}","NOERROR","{domain}.","Software/Technology,Business Services","AD Computers",'
                '"AD Computers,Sites,Networks",""')

    rows = [(row("08:10:00", "10.20.1.55", "Allowed", "1 (A)", "www.example.com"), None),
            (row("08:10:01", "10.20.1.55", "Allowed", "1 (A)", f"cdn.{C2}"), C2),
            (row("08:10:02", "10.20.1.56", "Allowed", "28 (AAAA)", f"not{C2}"), None),
            (row("08:10:03", "10.20.1.57", "Blocked", "1 (A)", C2), C2)]
    return _shape("umbrella-dns.csv", [], rows)


def route53() -> Shape:
    """AWS Route 53 Resolver query log (one JSON object per line)."""
    def q(t: str, name: str, src: str, answer: str) -> str:
        return json.dumps({"version": "1.100000", "account_id": "123456789012", "region": "eu-west-3",
                           "vpc_id": "vpc-0a1b2c3d4e5f", "query_timestamp": f"2023-03-29T{t}Z", "query_name": f"{name}.",
                           "query_type": "A", "query_class": "IN", "rcode": "NOERROR",
                           "answers": [{"Rdata": answer, "Type": "A", "Class": "IN"}], "srcaddr": src, "srcport": "53211",
                           "transport": "UDP", "srcids": {"instance": "i-0abc1234def567890"}})

    rows = [(q("08:10:00", "www.example.com", "10.0.1.15", "93.184.216.34"), None),
            (q("08:10:01", f"update.{C2}", "10.0.1.15", "162.0.229.15"), C2),
            (q("08:10:02", f"not{C2}", "10.0.1.16", "162.0.229.15"), None),
            (q("08:10:03", "cdn.example.net", "10.0.1.17", C2_IP), C2_IP)]
    return _shape("route53-resolver.log", [], rows)


def windows_firewall() -> Shape:
    """Windows Firewall pfirewall.log (W3C-like #Fields, src-ip/dst-ip)."""
    header = ["#Version: 1.5", "#Software: Microsoft Windows Firewall", "#Time Format: Local",
              "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin "
              "icmptype icmpcode info path pid", ""]
    rows = [("2023-03-29 08:10:00 ALLOW TCP 10.20.1.55 93.184.216.34 49720 443 0 - 0 0 0 - - - SEND 4242", None),
            (f"2023-03-29 08:10:01 ALLOW TCP 10.20.1.55 {C2_IP} 49723 443 0 - 0 0 0 - - - SEND 4242", C2_IP),
            ("2023-03-29 08:10:02 ALLOW TCP 10.20.1.56 162.0.229.15 49724 443 0 - 0 0 0 - - - SEND 4242", None),
            ("2023-03-29 08:10:03 DROP UDP 10.20.1.57 162.0.229.1590 5353 5353 0 - - - - - - - RECEIVE 4", None)]
    return _shape("pfirewall.log", header, rows)


def defender_csv() -> Shape:
    """Microsoft Defender DeviceNetworkEvents exported as CSV (header names RemoteIP/RemoteUrl)."""
    header = ["Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,LocalIP,LocalPort,Protocol,"
              "InitiatingProcessFileName,InitiatingProcessCommandLine,ReportId"]

    def row(t: str, ip: str, port: int, url: str) -> str:
        return (f'2023-03-29T{t}.000Z,c3f0a9e2b1,ws-alice.corp.local,ConnectionSuccess,{ip},{port},{url},10.20.1.55,'
                f'49723,Tcp,3CXDesktopApp.exe,"""3CXDesktopApp.exe"" --update",4512')

    rows = [(row("08:10:00", "93.184.216.34", 443, "www.example.com"), None),
            (row("08:10:01", C2_IP, 443, f"www.{C2}"), C2),
            (row("08:10:02", "162.0.229.15", 443, f"not{C2}"), None),
            (row("08:10:03", "140.82.121.4", 443, f"https://{URL_IND}/main/icon3.ico"), URL_IND)]
    return _shape("DeviceNetworkEvents.csv", header, rows)


SPLIT_FIELD = {"bluecoat": bluecoat, "zeek-http": zeek_http, "suricata-http": suricata_http, "zscaler": zscaler,
               "panos": panos_url}
UNRECOGNISED = {"umbrella": umbrella_dns, "route53": route53, "windows-firewall": windows_firewall,
                "defender": defender_csv}
