"""Fixture generator: one realistic sample per log format, with hits and near-misses at known lines.

Each builder returns (file content, {line number: indicator value expected to match}); every
other line is background or a near miss (parent-domain look-alike, IP prefix, CONNECT to the
host of a URL indicator, URL path look-alike) and must not match.
"""

from __future__ import annotations

import json

C2 = "akamaicontainer.com"
C2_IP = "162.0.229.159"
URL_IND = "github.com/IconStorages/images"
EXTRA_PACK_CSV = """type,value,confidence
sha256,a3f1c2b7e9a0d4c558e217b6d4a9c0e13a3f1c2b7e9a0d4c558e217b6d4a9c0e,90
cert-sha1,0123456789abcdef0123456789abcdef01234567,90
ipv6,2001:db8::bad,80
cidr,203.0.113.0/28,80
"""
FILE_SHA256 = "a3f1c2b7e9a0d4c558e217b6d4a9c0e13a3f1c2b7e9a0d4c558e217b6d4a9c0e"
CERT_SHA1 = "0123456789abcdef0123456789abcdef01234567"


def squid() -> tuple[str, dict[int, str]]:
    rows = [
        ("1680000000.000    100 10.0.0.5 TCP_MISS/200 500 GET http://www.example.com/ alice DIRECT/93.184.216.34 text/html", None),
        (f"1680000001.000    100 10.0.0.5 TCP_MISS/200 500 GET http://www.{C2}/x alice DIRECT/{C2_IP} text/html", C2),
        (f"1680000002.000    100 10.0.0.6 TCP_MISS/200 500 GET http://not{C2}/x bob DIRECT/162.0.229.15 text/html", None),
        ("1680000003.000    100 10.0.0.7 TCP_MISS/200 500 CONNECT github.com:443 carol DIRECT/140.82.121.4 -", None),
        ("1680000004.000    100 10.0.0.8 TCP_MISS/200 500 GET https://AKAMAICONTAINER.COM./y dave DIRECT/9.9.9.9 -", C2),
        (f"1680000005.000    100 10.0.0.9 TCP_MISS/200 500 GET https://{URL_IND}/main/icon3.ico erin DIRECT/140.82.121.4 -", URL_IND),
        ("1680000006.000    100 10.0.0.9 TCP_MISS/200 500 GET https://github.com/IconStoragesX/images erin DIRECT/140.82.121.4 -", None),
        ("1680000007.000    100 10.0.0.9 TCP_MISS/200 500 GET https://github.com/%49conStorages/images/x erin DIRECT/140.82.121.4 -", URL_IND),
        (f"1680000008.000    100 10.0.0.10 TCP_DENIED/407 0 CONNECT {C2}:443 - NONE/- -", C2),
    ]
    return _lines(rows)


def _lines(rows: list[tuple[str, str | None]], header: list[str] | None = None) -> tuple[str, dict[int, str]]:
    header = header or []
    text = "\n".join(header + [r for r, _ in rows]) + "\n"
    return text, {len(header) + i + 1: ind for i, (_, ind) in enumerate(rows) if ind}


def ncsa() -> tuple[str, dict[int, str]]:
    rows = [
        ('10.0.0.5 - alice [28/Mar/2023:10:00:00 +0000] "GET http://www.example.com/ HTTP/1.1" 200 512 "-" "curl/8"', None),
        (f'10.0.0.5 - alice [28/Mar/2023:10:00:01 +0000] "GET http://cdn.{C2}/a HTTP/1.1" 200 512 "-" "curl/8"', C2),
        (f'10.0.0.6 - bob [28/Mar/2023:10:00:02 +0000] "CONNECT {C2}:443 HTTP/1.1" 200 0 "-" "curl/8"', C2),
        (f'10.0.0.6 - bob [28/Mar/2023:10:00:03 +0000] "GET http://www.example.com/?q={C2} HTTP/1.1" 200 5 "-" "curl"', None),
    ]
    return _lines(rows)


def w3c_bluecoat() -> tuple[str, dict[int, str]]:
    header = ["#Software: SGOS 6.7.4.1", "#Version: 1.0",
              "#Fields: date time time-taken c-ip cs-username s-action sc-status cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query r-ip"]
    rows = [
        ("2023-03-28 10:00:00 5 10.0.0.5 alice TCP_NC_MISS 200 GET http www.example.com 80 / - 93.184.216.34", None),
        (f"2023-03-28 10:00:01 5 10.0.0.5 alice TCP_NC_MISS 200 GET https www.{C2} 443 /x - {C2_IP}", C2),
        ("2023-03-28 10:00:02 5 10.0.0.6 bob TCP_TUNNELED 200 CONNECT tcp github.com 443 / - 140.82.121.4", None),
        (f"2023-03-28 10:00:03 5 10.0.0.7 \"carol smith\" TCP_NC_MISS 200 GET http not{C2} 80 / - 162.0.229.15", None),
    ]
    return _lines(rows, header)


def w3c_iis() -> tuple[str, dict[int, str]]:
    header = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0",
              "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status"]
    rows = [
        ("2023-03-28 10:00:00 10.1.1.1 GET /index.html - 443 - 10.0.0.5 Mozilla/5.0 200", None),
        (f"2023-03-28 10:00:01 10.1.1.1 GET /api - 443 - {C2_IP} Mozilla/5.0 200", C2_IP),  # inbound from the C2 IP
    ]
    return _lines(rows, header)


def zscaler() -> tuple[str, dict[int, str]]:
    header = ['"datetime","user","clientip","serverip","url","requestmethod","action","devicehostname","urlcategory"']
    rows = [
        ('"2023-03-28T10:00:00Z","alice@corp","10.0.0.5","93.184.216.34","www.example.com/","GET","Allowed","WS-ALICE","News"', None),
        (f'"2023-03-28T10:00:01Z","alice@corp","10.0.0.5","{C2_IP}","{C2}/v2/storage","GET","Allowed","WS-ALICE","Misc"', C2),
        (f'"2023-03-28T10:00:02Z","bob@corp","10.0.0.6","162.0.229.15","not{C2}/","GET","Allowed","WS-BOB","Misc"', None),
    ]
    return _lines(rows, header)


def panos() -> tuple[str, dict[int, str]]:
    def traffic(src: str, dst: str, port: int) -> str:
        f = ["Mar 28 10:00:00 PA-220 1", "2023/03/28 10:00:00", "012801096514", "TRAFFIC", "end", "2049",
             "2023/03/28 10:00:00", src, dst, "192.168.1.63", dst, "rule1", "", "", "ssl", "vsys1", "trust", "untrust",
             "ethernet1/2", "ethernet1/1", "fwd", "2023/03/28 10:00:00", "1", "1", "55113", str(port), "16418", str(port),
             "0x400053", "tcp", "allow"] + ["0"] * 34
        return ",".join(f)

    def threat(src: str, dst: str, url: str) -> str:
        f = ["Mar 28 10:00:01 PA-220 1", "2023/03/28 10:00:01", "012801096514", "THREAT", "url", "2049",
             "2023/03/28 10:00:01", src, dst, "192.168.1.63", dst, "rule1", "", "", "web-browsing", "vsys1", "trust",
             "untrust", "ethernet1/2", "ethernet1/1", "fwd", "2023/03/28 10:00:01", "1", "1", "52984", "80", "37679", "80",
             "0x403000", "tcp", "block-url", f'"{url}"'] + ["0"] * 43
        return ",".join(f)

    rows = [
        (traffic("192.168.15.207", "184.51.253.152", 443), None),
        (traffic("192.168.15.208", C2_IP, 443), C2_IP),
        (traffic("192.168.15.209", "162.0.229.15", 443), None),
        (threat("192.168.15.210", "198.51.100.9", f"www.{C2}/update"), C2),
        (traffic("192.168.15.211", "203.0.113.7", 443), "203.0.113.0/28"),
        (traffic("192.168.15.212", "203.0.113.17", 443), None),
    ]
    return _lines(rows)


def windns() -> tuple[str, dict[int, str]]:
    header = ["DNS Server log file creation at 3/28/2023 9:59:59 AM", "", "Message logging key (for packets - other items use a subset of these fields):"]
    rows = [
        ("3/28/2023 10:00:00 AM 0E40 PACKET  000001E4D5A0C1B0 UDP Rcv 10.0.0.5        8b1f   Q [0001   D   NOERROR] A      (3)www(7)example(3)com(0)", None),
        ("3/28/2023 10:00:01 AM 0E40 PACKET  000001E4D5A0C1B0 UDP Rcv 10.0.0.5        8b20   Q [0001   D   NOERROR] A      (3)cdn(15)akamaicontainer(3)com(0)", C2),
        ("3/28/2023 10:00:01 AM 0E40 PACKET  000001E4D5A0C1B0 UDP Snd 10.0.0.1        8b21   Q [0001   D   NOERROR] A      (3)cdn(15)akamaicontainer(3)com(0)", None),  # forwarded upstream
        ("3/28/2023 10:00:02 AM 0E40 PACKET  000001E4D5A0C1B0 UDP Rcv 10.0.0.6        8b22   Q [0001   D   NOERROR] A      (18)notakamaicontainer(3)com(0)", None),
    ]
    return _lines(rows, header)


def bind() -> tuple[str, dict[int, str]]:
    rows = [
        ("28-Mar-2023 10:00:00.123 queries: info: client @0x7f1 10.0.0.5#53321 (www.example.com): query: www.example.com IN A + (10.0.0.1)", None),
        (f"28-Mar-2023 10:00:01.123 queries: info: client @0x7f1 10.0.0.5#53322 (WWW.{C2.upper()}.): query: WWW.{C2.upper()}. IN A +E(0)K (10.0.0.1)", C2),
        (f"Mar 28 10:00:02 ns1 named[811]: client @0x7f2 10.0.0.6#53323 (not{C2}): query: not{C2} IN A + (10.0.0.1)", None),
    ]
    return _lines(rows)


def dnsmasq() -> tuple[str, dict[int, str]]:
    rows = [
        ("Mar 28 10:00:00 gw dnsmasq[1234]: query[A] www.example.com from 10.0.0.5", None),
        (f"Mar 28 10:00:01 gw dnsmasq[1234]: query[AAAA] static.{C2} from 10.0.0.5", C2),
        (f"Mar 28 10:00:01 gw dnsmasq[1234]: forwarded static.{C2} to 1.1.1.1", None),
        (f"Mar 28 10:00:01 gw dnsmasq[1234]: reply static.{C2} is {C2_IP}", None),
        (f"Mar 28 10:00:02 gw dnsmasq[1234]: query[A] not{C2} from 10.0.0.6", None),
    ]
    return _lines(rows)


def zeek_tsv(path: str) -> tuple[str, dict[int, str]]:
    fields = {
        "conn": ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state"],
        "dns": ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "answers"],
        "http": ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "method", "host", "uri"],
        "ssl": ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "server_name", "cert_chain_fps"],
        "x509": ["ts", "fingerprint", "certificate.subject", "san.dns"],
        "files": ["ts", "fuid", "tx_hosts", "rx_hosts", "md5", "sha1", "sha256"],
    }[path]
    header = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{path}",
              "#open\t2023-03-28-10-00-00", "#fields\t" + "\t".join(fields), "#types\t" + "\t".join(["string"] * len(fields))]
    rows = {
        "conn": [("1680000000.1\tC1\t10.0.0.5\t50000\t93.184.216.34\t443\ttcp\tSF", None),
                 (f"1680000001.1\tC2\t10.0.0.5\t50001\t{C2_IP}\t443\ttcp\tSF", C2_IP),
                 ("1680000002.1\tC3\t10.0.0.6\t50002\t162.0.229.15\t443\ttcp\tSF", None),
                 ("1680000003.1\tC4\t10.0.0.7\t50003\t2001:db8::bad\t443\ttcp\tSF", "2001:db8::bad")],
        "dns": [("1680000000.1\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\twww.example.com\t93.184.216.34", None),
                (f"1680000001.1\tC2\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tx.{C2}\t{C2_IP}", C2),
                ("1680000002.1\tC3\t10.0.0.6\t5353\t10.0.0.1\t53\tudp\tcdn.example.net\tedge.example.net,162.0.229.159", C2_IP),
                (f"1680000003.1\tC4\t10.0.0.6\t5353\t10.0.0.1\t53\tudp\tnot{C2}\t-", None)],
        "http": [("1680000000.1\tC1\t10.0.0.5\t50000\t93.184.216.34\t80\tGET\twww.example.com\t/", None),
                 ("1680000001.1\tC2\t10.0.0.5\t50001\t140.82.121.4\t80\tGET\tgithub.com\t/IconStorages/images/icon1.ico", URL_IND),
                 ("1680000002.1\tC3\t10.0.0.5\t50002\t140.82.121.4\t80\tGET\tgithub.com\t/IconStorage/images", None)],
        "ssl": [("1680000000.1\tC1\t10.0.0.5\t50000\t93.184.216.34\t443\twww.example.com\t-", None),
                (f"1680000001.1\tC2\t10.0.0.5\t50001\t9.9.9.9\t443\tcdn.{C2}\t-", C2),
                ("1680000002.1\tC3\t10.0.0.5\t50002\t140.82.121.4\t443\tgithub.com\t-", None)],
        "x509": [("1680000000.1\tffff0000ffff0000ffff0000ffff0000ffff0000\tCN=example\texample.com", None),
                 (f"1680000001.1\t{CERT_SHA1}\tCN=evil\tevil.example", CERT_SHA1)],
        "files": [("1680000000.1\tF1\t93.184.216.34\t10.0.0.5\t-\t-\t" + "0" * 64, None),
                  (f"1680000001.1\tF2\t198.51.100.1\t10.0.0.5\t-\t-\t{FILE_SHA256}", FILE_SHA256)],
    }[path]
    return _lines(rows, header)


def zeek_json() -> tuple[str, dict[int, str]]:
    rows = [
        (json.dumps({"_path": "dns", "ts": "2023-03-28T10:00:00.000000Z", "id.orig_h": "10.0.0.5", "id.resp_h": "10.0.0.1",
                     "id.resp_p": 53, "query": "www.example.com", "answers": ["93.184.216.34"]}), None),
        (json.dumps({"_path": "dns", "ts": "2023-03-28T10:00:01.000000Z", "id.orig_h": "10.0.0.5", "id.resp_h": "10.0.0.1",
                     "id.resp_p": 53, "query": f"{C2}.", "answers": [C2_IP]}), C2),
        (json.dumps({"ts": 1680000002.5, "id.orig_h": "10.0.0.5", "id.resp_h": "140.82.121.4", "id.resp_p": 443,
                     "method": "GET", "host": "github.com", "uri": "/IconStorages/images/main/x"}), URL_IND),
    ]
    return _lines(rows)


def suricata() -> tuple[str, dict[int, str]]:
    base = {"timestamp": "2023-03-28T10:00:00.000000+0000", "src_ip": "10.0.0.5", "src_port": 50000,
            "dest_ip": "10.0.0.1", "dest_port": 53, "proto": "UDP"}
    rows = [
        (json.dumps({**base, "event_type": "dns", "dns": {"type": "query", "rrname": "www.example.com"}}), None),
        (json.dumps({**base, "event_type": "dns", "dns": {"version": 2, "type": "answer", "rrname": f"a.{C2}",
                                                          "answers": [{"rrname": f"a.{C2}", "rrtype": "A", "rdata": C2_IP}]}}), C2),
        (json.dumps({**base, "event_type": "dns", "dns": {"type": "query", "rrname": f"not{C2}"}}), None),
        (json.dumps({**base, "dest_ip": "140.82.121.4", "dest_port": 443, "event_type": "tls",
                     "tls": {"sni": "github.com", "fingerprint": "aa:bb"}}), None),
        (json.dumps({**base, "dest_ip": "9.9.9.9", "dest_port": 443, "event_type": "tls",
                     "tls": {"sni": f"x.{C2}.", "fingerprint": ":".join(CERT_SHA1[i:i + 2] for i in range(0, 40, 2))}}), C2),
        (json.dumps({**base, "dest_ip": "140.82.121.4", "dest_port": 80, "event_type": "http",
                     "http": {"hostname": "github.com", "url": "/IconStorages/images/icon2.ico", "http_method": "GET"}}), URL_IND),
        (json.dumps({**base, "dest_ip": C2_IP, "dest_port": 443, "event_type": "flow", "flow": {"pkts_toserver": 3}}), C2_IP),
        (json.dumps({**base, "dest_ip": "198.51.100.1", "dest_port": 80, "event_type": "fileinfo",
                     "http": {"hostname": "files.example.net", "url": "/a.bin"},
                     "fileinfo": {"filename": "/a.bin", "sha256": FILE_SHA256}}), FILE_SHA256),
        (json.dumps({"timestamp": "2023-03-28T10:00:09.000000+0000", "event_type": "stats", "stats": {"uptime": 5}}), None),
    ]
    return _lines(rows)


def jsonl() -> tuple[str, dict[int, str]]:
    rows = [
        (json.dumps({"@timestamp": "2023-03-28T10:00:00Z", "source": {"ip": "10.0.0.5"}, "destination": {"domain": "www.example.com"}}), None),
        (json.dumps({"@timestamp": "2023-03-28T10:00:01Z", "source": {"ip": "10.0.0.5"}, "url": {"full": f"https://{C2}/x"}}), C2),
    ]
    return _lines(rows)


def jsonl_mapped() -> tuple[str, dict[int, str]]:
    rows = [
        (json.dumps({"when": "2023-03-28T10:00:00Z", "client": "10.0.0.5", "q": "www.example.com"}), None),
        (json.dumps({"when": "2023-03-28T10:00:01Z", "client": "10.0.0.5", "q": f"mail.{C2}"}), C2),
    ]
    return _lines(rows)


def csv_generic() -> tuple[str, dict[int, str]]:
    rows = [("2023-03-28T10:00:00Z,10.0.0.5,www.example.com,93.184.216.34", None),
            (f"2023-03-28T10:00:01Z,10.0.0.5,{C2},{C2_IP}", C2),
            ("2023-03-28T10:00:02Z,10.0.0.6,example.org,162.0.229.15", None)]
    return _lines(rows, ["@timestamp,source.ip,destination.domain,destination.ip"])


def cef() -> tuple[str, dict[int, str]]:
    rows = [
        ("Mar 28 10:00:00 fw CEF:0|Fortinet|FortiGate|7.0|13|traffic|3|src=10.0.0.5 dst=93.184.216.34 dpt=443 dhost=www.example.com", None),
        (f"Mar 28 10:00:01 fw CEF:0|Fortinet|FortiGate|7.0|13|traffic|3|src=10.0.0.5 dst={C2_IP} dpt=443 dhost=www.{C2} act=accept", C2),
        (f"Mar 28 10:00:02 fw CEF:0|Zscaler|NSSWeblog|5.0|Allowed|Allowed|3|rt=Mar 28 2023 10:00:02 src=10.0.0.6 request=https://{URL_IND}/x requestMethod=GET", URL_IND),
    ]
    return _lines(rows)


FORMATS = {
    "squid": squid, "ncsa": ncsa, "w3c-bluecoat": w3c_bluecoat, "w3c-iis": w3c_iis, "zscaler": zscaler,
    "panos": panos, "windns": windns, "bind": bind, "dnsmasq": dnsmasq,
    **{f"zeek-{p}": (lambda p=p: zeek_tsv(p)) for p in ("conn", "dns", "http", "ssl", "x509", "files")},
    "zeek-json": zeek_json, "suricata": suricata, "jsonl": jsonl, "csv": csv_generic, "cef": cef,
}
EXPECTED_READER = {"w3c-bluecoat": "w3c", "w3c-iis": "w3c", **{f"zeek-{p}": "zeek" for p in
                   ("conn", "dns", "http", "ssl", "x509", "files")}}
