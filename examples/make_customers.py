"""Writes examples/customers.csv: 300 customers, a handful of them bad, each in its own way.

Run it from the repository root (``python examples/make_customers.py``); the output is the same
every time, so the file in the repository can be checked against it.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

HEADER = ["customer_id", "name", "email", "country", "signup_date", "balance", "vip", "status"]
FIRST = ["Ada", "Bjørn", "Chloé", "Dmitri", "Eve", "Farah", "Goran", "Hana", "Iker", "Jun"]
LAST = ["Lovelace", "Ødegaard", "Dupont", "Ivanov", "Smith", "Haddad", "Petrović", "Sato"]
COUNTRIES = ["FR", "DE", "US", "GB", "NO", "JP", "ES"]
STATUSES = ["active", "active", "active", "paused", "closed"]
# Line numbers count the header as line 1; each bad record replaces the good one there.
BAD_RECORDS: dict[int, bytes] = {
    # A valid record whose name a spreadsheet would run as a formula: exports escape it.
    30: b"29,=1+2 Mallory,mallory@example.com,GB,2020-02-02,0.00,no,active",
    12: b"11,Ada Sato,ada@example.com,FR,2021-02-30,10.00,no,active",  # date: no 30 February
    40: b"39x,Eve Smith,eve@example.com,DE,2022-01-05,1.00,no,active",  # integer: 39x
    77: b"76,Jun Dupont,jun.at.example.com,JP,2022-03-01,5.00,yes,active",  # email pattern
    103: b"102,Hana Ivanov,hana@example.com,XX,2020-07-14,7.50,no,paused",  # country choice
    150: b"149,,nobody@example.com,US,2023-01-01,0.00,no,active",  # name required
    188: b"187,Iker Haddad,iker@example.com,ES,2023-05-05,12.345,no,active",  # balance scale
    222: b"221,Goran Petrovi\xe6,goran@example.com,NO,2019-09-09,3.00,no,closed",  # not UTF-8
    260: b"259,Farah Lovelace,farah@example.com,GB,2021-11-11,4.00",  # 6 fields of 8
}


def customers(count: int = 300) -> list[list[str]]:
    """Good customer records, the same on every run."""
    rng = random.Random(42)
    rows = []
    for i in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").replace("ø", "o").replace("Ø", "O")
        email = f"{plain.encode('ascii', 'ignore').decode()}.{i}@example.com".lower()
        signup = date(2019, 1, 1) + timedelta(days=rng.randrange(1800))
        balance = f"{rng.randrange(0, 500000) / 100:.2f}"
        vip = rng.choice(["yes", "no", "no", "no"])
        rows.append(
            [
                str(i),
                f"{first} {last}",
                email,
                rng.choice(COUNTRIES),
                signup.isoformat(),
                balance,
                vip,
                rng.choice(STATUSES),
            ]
        )
    return rows


def render() -> bytes:
    """The whole file: UTF-8, CRLF line ends, the bad records in place."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    lines = [b""]
    for row in customers():
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        lines.append(out.getvalue().encode("utf-8"))
    for line, record in BAD_RECORDS.items():
        lines[line - 1] = record + b"\r\n"
    header = ",".join(HEADER).encode() + b"\r\n"
    return header + b"".join(lines[1:])


if __name__ == "__main__":
    target = Path(__file__).with_name("customers.csv")
    target.write_bytes(render())
    print(f"wrote {target}")
