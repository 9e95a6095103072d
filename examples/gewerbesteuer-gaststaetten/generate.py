#!/usr/bin/env python3
"""Generates the two legacy files of the example beside the Gewerberegister:

  data/GWSTZAHL.DAT      Gewerbesteuer payments as the Stadtkasse's mainframe (HKR procedure)
                         exports them: fixed-length 120-byte records, EBCDIC code page IBM-1141
                         (German, with the euro sign), amounts in COMP-3 packed decimal, dates
                         and years as zoned decimal, the late-payment surcharge as signed zoned
                         decimal with overpunched sign; layout in copybooks/GWSTZAHL.cpy.
  data/gaststaetten.csv  Gaststättenerlaubnisse (§ 2 GastG) as the Ordnungsamt's desktop
                         program exports them: semicolon-separated, ISO-8859-15, CRLF, decimal
                         commas with thousands dots, dates DD.MM.YYYY, quoted remarks.

Both are drawn from the Gewerberegister database (examples/gewerberegister/generate.py), so
the Betriebsnummern, names and addresses match its Gewerbebetriebe: restaurant licences for
its Gaststätten (WZ 56.10, 56.30), tax payments for a share of its businesses. The output is
deterministic for a given database and --seed. Python 3 standard library only.

    generate.py                                  # reads ../gewerberegister/data/gewerbe.db
    generate.py --gewerbe-db /tmp/g.db --output-dir /tmp/data
    generate.py --expect /tmp/expect.json        # also writes the records as the API should
                                                 # show them (used by the end-to-end test)

All names and figures are invented; any likeness to real persons is chance.
"""

import argparse
import datetime
import decimal
import json
import os
import random
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
D = decimal.Decimal

RECORD_LENGTH = 120
# Python has no codec for IBM-1141; it is IBM-273 with the euro sign at 0x9F where 273 has the
# currency sign (U+00A4), the same relation as between 037 and 1140.
EURO_1141 = 0x9F

# Gewerbesteuer-Hebesatz (%) of each town of the register (values of about 2024).
HEBESATZ = {"Berlin": 410, "Hamburg": 470, "München": 490, "Köln": 475, "Frankfurt am Main": 460,
            "Stuttgart": 420, "Düsseldorf": 440, "Leipzig": 460, "Dresden": 450, "Nürnberg": 447,
            "Hannover": 480}
# Vorauszahlungen are due on 15 Feb, May, Aug and Nov (§ 19 Abs. 1 GewStG).
QUARTERS = [(2, 15), (5, 15), (8, 15), (11, 15)]
YEARS = [2023, 2024]
STICHTAG = datetime.date(2025, 6, 30)

# Gaststättenerlaubnis: kind of business (§ 1 GastG) as the export codes it.
ART = {"1": "Schankwirtschaft", "2": "Speisewirtschaft", "3": "Schank- und Speisewirtschaft"}
AUFLAGEN = [
    "",
    "",
    "",
    "Außenbewirtschaftung bis 22:00 Uhr",
    "Auflage: Lärmschutz; Fenster ab 22 Uhr geschlossen",
    "Sicherheitsleistung 500 € hinterlegt",
    "Nichtraucherschutz: abgetrennter Raucherraum",
    "Stellvertretungserlaubnis für Filialleitung erteilt",
    'Hinweis "Jugendschutz" ausgehängt',
]


def ebcdic(text, length):
    """Text in IBM-1141, blank-padded to length; cut if longer."""
    text = text[:length].ljust(length)
    out = bytearray()
    for ch in text:
        out += bytes([EURO_1141]) if ch == "€" else ch.encode("cp273")
    return bytes(out)


def packed(value, digits, scale, signed):
    """COMP-3: two digits a byte, the sign in the last nibble (C +, D -, F unsigned)."""
    n = int((abs(value) * (10 ** scale)).to_integral_value())
    size = digits // 2 + 1
    text = str(n).rjust(size * 2 - 1, "0")
    if len(text) > size * 2 - 1:
        raise ValueError(f"{value} does not fit {digits} digits")
    sign = 0xF if not signed else (0xD if value < 0 else 0xC)
    nibbles = [int(c) for c in text] + [sign]
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def zoned(value, digits, scale, signed):
    """USAGE DISPLAY in EBCDIC: digits F0-F9, the sign overpunched in the last zone (C/D)."""
    n = int((abs(value) * (10 ** scale)).to_integral_value())
    text = str(n).rjust(digits, "0")
    if len(text) > digits:
        raise ValueError(f"{value} does not fit {digits} digits")
    out = bytearray(0xF0 | int(c) for c in text)
    if signed:
        out[-1] = (0xD0 if value < 0 else 0xC0) | (out[-1] & 0x0F)
    return bytes(out)


def ymd(d):
    return d.year * 10000 + d.month * 100 + d.day


def betriebe(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT BETR_NR, BETR_NAME, STR, HNR, PLZ, ORT, WZ_CD, STAT_KZ, RF_CD, GEW_BEG_DAT, "
        "GEW_END_DAT FROM GEW_BETRIEB ORDER BY BETR_NR").fetchall()
    inhaber = {}
    for nr, fam, vor in con.execute(
            "SELECT BETR_NR, FAM_NAME, VOR_NAME FROM GEW_PERSON ORDER BY PERS_NR"):
        inhaber.setdefault(nr, f"{vor.strip()} {fam.strip()}".strip())
    con.close()
    out = []
    for nr, name, strasse, hnr, plz, ort, wz, stat, rf, beg, end in rows:
        out.append({"nr": nr, "name": name.rstrip(), "strasse": f"{strasse.rstrip()} {hnr.rstrip()}".strip(),
                    "plz": plz, "ort": ort.rstrip(), "wz": wz, "aktiv": stat == "A", "rf": rf,
                    "beginn": beg, "ende": end, "inhaber": inhaber.get(nr, "")})
    return out


def date_of(text):
    if text.strip("0 ") == "":
        return None
    return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def zahlungen(rng, bs):
    """Gewerbesteuer postings 2023-2024 for about a third of the businesses active then."""
    out = []
    buchungs_nr = 0
    for b in bs:
        beg, end = date_of(b["beginn"]), date_of(b["ende"])
        if beg is None or beg > datetime.date(2022, 12, 31):
            continue
        if end is not None and end < datetime.date(2024, 1, 1):
            continue
        if rng.random() > 0.35:
            continue
        hebesatz = HEBESATZ.get(b["ort"], 400)
        # Steuermessbetrag: 3.5 % of the trade income above the allowance.
        messbetrag = D(rng.randrange(40, 12000)) + D(rng.randrange(0, 100)) / 100
        jahressteuer = (messbetrag * hebesatz / 100).quantize(D("0.01"), decimal.ROUND_DOWN)
        rate = (jahressteuer / 4).quantize(D("0.01"), decimal.ROUND_DOWN)
        kz = f"6.1100.{b['nr']:06d}.{b['nr'] % 7}"
        for jahr in YEARS:
            for month, day in QUARTERS:
                faellig = datetime.date(jahr, month, day)
                if end is not None and faellig > end:
                    break
                late = rng.random() < 0.12
                gebucht = faellig + datetime.timedelta(days=rng.randrange(35, 95) if late else rng.randrange(-6, 3))
                zuschlag = D(0)
                if (gebucht - faellig).days > 3:  # three days' grace (§ 240 Abs. 3 AO)
                    months = -(-(gebucht - faellig).days // 30)
                    # § 240 AO: 1 % of the amount rounded down to 50 EUR, per month begun.
                    zuschlag = (rate // 50) * 50 * months / 100
                out.append({"buchungs_nr": buchungs_nr, "kz": kz, "b": b, "jahr": jahr, "art": "V",
                            "faellig": faellig, "gebucht": gebucht, "betrag": rate,
                            "hebesatz": hebesatz, "zuschlag": zuschlag.quantize(D("0.01"))})
                buchungs_nr += 1
        # The 2023 assessment: a final payment or a refund, booked in 2024/2025.
        diff = (jahressteuer * D(rng.randrange(-30, 40)) / 100).quantize(D("0.01"))
        if diff != 0 and (end is None or end > datetime.date(2024, 6, 30)):
            faellig = datetime.date(2024, 6, 1) + datetime.timedelta(days=rng.randrange(0, 240))
            out.append({"buchungs_nr": buchungs_nr, "kz": kz, "b": b, "jahr": 2023,
                        "art": "A" if diff > 0 else "E", "faellig": faellig,
                        "gebucht": faellig + datetime.timedelta(days=rng.randrange(-3, 10)),
                        "betrag": diff, "hebesatz": hebesatz, "zuschlag": D("0.00")})
            buchungs_nr += 1
    # The file is in posting order, and the Buchungsnummer counts the postings.
    out.sort(key=lambda z: (z["gebucht"], z["buchungs_nr"]))
    for i, z in enumerate(out):
        z["buchungs_nr"] = 2023000001 + i
    return out


def zahlung_record(z):
    rec = b"".join([
        packed(D(z["buchungs_nr"]), 11, 0, False),          # GZ-BUCHUNGS-NR  9(11) COMP-3
        ebcdic(z["kz"], 15),                                 # GZ-KASSENZEICHEN X(15)
        packed(D(z["b"]["nr"]), 9, 0, False),                # GZ-BETR-NR      9(9) COMP-3
        ebcdic(z["b"]["name"], 40),                          # GZ-STPFL-NAME   X(40)
        zoned(D(z["jahr"]), 4, 0, False),                    # GZ-ERHEB-JAHR   9(4)
        ebcdic(z["art"], 1),                                 # GZ-ZAHLART      X
        zoned(D(ymd(z["faellig"])), 8, 0, False),            # GZ-FAELLIG-DAT  9(8)
        zoned(D(ymd(z["gebucht"])), 8, 0, False),            # GZ-BUCHUNGS-DAT 9(8)
        packed(z["betrag"], 11, 2, True),                    # GZ-BETRAG       S9(9)V99 COMP-3
        packed(D(z["hebesatz"]), 3, 0, False),               # GZ-HEBESATZ     9(3) COMP-3
        zoned(z["zuschlag"], 7, 2, True),                    # GZ-SAEUMNIS-ZUSCHL S9(5)V99
        ebcdic("", 18),                                      # FILLER          X(18)
    ])
    assert len(rec) == RECORD_LENGTH, len(rec)
    return rec


def erlaubnisse(rng, bs):
    """A restaurant licence for every Gaststätte of the register (WZ 56.10, 56.30)."""
    out = []
    lfd = {}
    for b in bs:
        if b["wz"] not in ("56.10", "56.30"):
            continue
        beg = date_of(b["beginn"]) or datetime.date(1990, 1, 1)
        erteilt = max(beg - datetime.timedelta(days=rng.randrange(3, 40)), datetime.date(1970, 1, 2))
        lfd[erteilt.year] = lfd.get(erteilt.year, 0) + 1
        art = "1" if b["wz"] == "56.30" else rng.choice(["2", "3", "3"])
        end = date_of(b["ende"])
        befristet = None
        if end is None and rng.random() < 0.15:
            befristet = STICHTAG + datetime.timedelta(days=rng.randrange(30, 900))
        gebuehr = D(rng.choice([250, 400, 450, 600, 850, 1250, 1800])) + D(rng.choice([0, 0, 50])) / 100
        sitz = rng.randrange(12, 180)
        aussen = D(rng.randrange(0, 800)) / 10 if rng.random() < 0.6 else None
        out.append({
            "erlaubnisnummer": f"GA-{erteilt.year}-{lfd[erteilt.year]:04d}",
            "betriebsnummer": b["nr"], "betrieb": b["name"], "art": art,
            "strasse": b["strasse"], "plz": b["plz"], "ort": b["ort"],
            "inhaber": b["inhaber"], "erteilt": erteilt, "befristet": befristet,
            "erloschen": end, "sitzplaetze": sitz, "aussenflaeche": aussen,
            "gebuehr": gebuehr, "bemerkung": rng.choice(AUFLAGEN),
        })
    return out


def csv_field(text):
    if any(c in text for c in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def german_decimal(value, places):
    text = f"{value:,.{places}f}"          # 1,250.50
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def german_date(d):
    return "" if d is None else d.strftime("%d.%m.%Y")


CSV_COLUMNS = ["ERL_NR", "BETR_NR", "BETRIEB", "ART", "STRASSE", "PLZ", "ORT", "INHABER",
               "ERTEILT_AM", "BEFRISTET_BIS", "ERLOSCHEN_AM", "SITZPLAETZE", "AUSSEN_QM",
               "GEBUEHR_EUR", "BEMERKUNG"]


def erlaubnis_line(e):
    fields = [e["erlaubnisnummer"], str(e["betriebsnummer"]), e["betrieb"], e["art"], e["strasse"],
              e["plz"], e["ort"], e["inhaber"], german_date(e["erteilt"]), german_date(e["befristet"]),
              german_date(e["erloschen"]), str(e["sitzplaetze"]),
              "" if e["aussenflaeche"] is None else german_decimal(e["aussenflaeche"], 1),
              german_decimal(e["gebuehr"], 2), e["bemerkung"]]
    return ";".join(csv_field(f) for f in fields)


def expectations(zs, es):
    """The records as the API shows them under fachadapter.yaml (JSON values as the CLI prints
    them: decimals and dates as text)."""
    iso = lambda d: None if d is None else d.isoformat()
    return {
        "Gewerbesteuerzahlung": [{
            "buchungsnummer": z["buchungs_nr"], "kassenzeichen": z["kz"],
            "betriebsnummer": z["b"]["nr"], "steuerpflichtiger": z["b"]["name"][:40].rstrip(),
            "erhebungsjahr": z["jahr"],
            "zahlart": {"V": "Vorauszahlung", "A": "Abschlusszahlung", "E": "Erstattung"}[z["art"]],
            "faelligAm": iso(z["faellig"]), "gebuchtAm": iso(z["gebucht"]),
            "betrag": f"{z['betrag']:.2f}", "hebesatz": z["hebesatz"],
            "saeumniszuschlag": f"{z['zuschlag']:.2f}"} for z in zs],
        "Gaststaettenerlaubnis": [{
            "erlaubnisnummer": e["erlaubnisnummer"], "betriebsnummer": e["betriebsnummer"],
            "betrieb": e["betrieb"], "betriebsart": ART[e["art"]], "strasse": e["strasse"],
            "plz": e["plz"], "ort": e["ort"], "inhaber": e["inhaber"] or None,
            "erteiltAm": iso(e["erteilt"]), "befristetBis": iso(e["befristet"]),
            "erloschenAm": iso(e["erloschen"]), "sitzplaetze": e["sitzplaetze"],
            "aussenflaeche": None if e["aussenflaeche"] is None else f"{e['aussenflaeche']:.1f}",
            "gebuehr": f"{e['gebuehr']:.2f}", "bemerkung": e["bemerkung"] or None} for e in es],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gewerbe-db", metavar="PATH",
                    default=os.path.join(HERE, "..", "gewerberegister", "data", "gewerbe.db"),
                    help="the Gewerberegister database (default: the other example's)")
    ap.add_argument("--output-dir", metavar="DIR", default=os.path.join(HERE, "data"),
                    help="where GWSTZAHL.DAT and gaststaetten.csv go (default: data/ here)")
    ap.add_argument("--seed", type=int, default=2, help="random seed; default 2 (§ 2 GastG)")
    ap.add_argument("--expect", metavar="PATH", help="also write the expected API records as JSON")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    if not os.path.exists(args.gewerbe_db):
        print(f"generate.py: no Gewerberegister database at {args.gewerbe_db}; create it first with "
              "examples/gewerberegister/generate.py", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    bs = betriebe(args.gewerbe_db)
    zs = zahlungen(rng, bs)
    es = erlaubnisse(rng, bs)
    os.makedirs(args.output_dir, exist_ok=True)
    dat = os.path.join(args.output_dir, "GWSTZAHL.DAT")
    csv = os.path.join(args.output_dir, "gaststaetten.csv")
    # Written under a temporary name and renamed, so a daemon never sees half a file.
    with open(dat + ".tmp", "wb") as f:
        for z in zs:
            f.write(zahlung_record(z))
    os.replace(dat + ".tmp", dat)
    with open(csv + ".tmp", "wb") as f:
        f.write(";".join(CSV_COLUMNS).encode("iso-8859-15") + b"\r\n")
        for e in es:
            f.write(erlaubnis_line(e).encode("iso-8859-15") + b"\r\n")
    os.replace(csv + ".tmp", csv)
    if args.expect:
        with open(args.expect, "w", encoding="utf-8") as f:
            json.dump(expectations(zs, es), f, ensure_ascii=False, indent=1)
    if not args.quiet:
        print(f"{dat}: {len(zs)} records of {RECORD_LENGTH} bytes (IBM-1141)")
        print(f"{csv}: {len(es)} Gaststättenerlaubnisse (ISO-8859-15, CRLF)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
