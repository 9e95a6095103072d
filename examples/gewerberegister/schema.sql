-- GEWREG: the trade register (Gewerberegister) of a Gewerbeamt, as a 1990s Fachverfahren keeps
-- it (Gewerbeanzeigen nach § 14 GewO). Synthetic example data for Fachadapter; the column
-- meanings are documented in README.md next to this file.
--
-- Legacy conventions kept on purpose, because real systems of that age look like this:
--   * cryptic upper-case names of at most 10 characters;
--   * no NULLs: every column is NOT NULL; optional ones default to blanks or zeros, required
--     ones have no default;
--   * texts are CHAR(n) padded with blanks to full length;
--   * dates are CHAR(8) 'YYYYMMDD' ('00000000' or blanks: no date), some CHAR(10) 'DD.MM.YYYY'
--     (blanks or '00.00.0000': no date), the capture stamp is CHAR(14) 'YYYYMMDDHHMMSS';
--   * amounts are text with a decimal comma, capital also with '.' grouping and right-aligned;
--   * codes are numbers or single letters, explained only in the code lists below.
-- Every table has a primary key; INTEGER PRIMARY KEY makes SQLite generate new numbers.

-- Wirtschaftszweige (WZ 2008 classes of Destatis), the code list behind GEW_BETRIEB.WZ_CD.
CREATE TABLE GEW_WZ (
  WZ_CD      CHAR(5)  NOT NULL PRIMARY KEY,         -- WZ 2008 class, e.g. '56.10'
  WZ_TXT     CHAR(80) NOT NULL DEFAULT ' ',         -- its official title, blank-padded
  ERL_PFL    CHAR(1)  NOT NULL DEFAULT 'N'          -- 'J': needs a permit (Erlaubnis), 'N': not
);

-- Betriebe: one row per registered business (Betriebsstätte) in the district.
CREATE TABLE GEW_BETRIEB (
  BETR_NR    INTEGER  NOT NULL PRIMARY KEY,         -- Betriebsnummer, generated
  BETR_NAME  CHAR(60) NOT NULL,                     -- name of the business (Firma)
  RF_CD      SMALLINT NOT NULL,                     -- Rechtsform, numeric code
  HR_GERICHT CHAR(30) NOT NULL DEFAULT ' ',         -- Registergericht, blank if none
  HR_NR      CHAR(12) NOT NULL DEFAULT ' ',         -- Handelsregisternummer, e.g. 'HRB 123456'
  STR        CHAR(40) NOT NULL,                     -- Betriebsstätte: Straße
  HNR        CHAR(6)  NOT NULL DEFAULT ' ',         -- Betriebsstätte: Hausnummer
  PLZ        CHAR(5)  NOT NULL,                     -- Betriebsstätte: Postleitzahl
  ORT        CHAR(40) NOT NULL,                     -- Betriebsstätte: Ort
  TEL        CHAR(20) NOT NULL DEFAULT ' ',         -- Telefon, blank if unknown
  BETR_ART   CHAR(1)  NOT NULL DEFAULT 'S',         -- Art: I Industrie, H Handwerk, K Handel, S Sonstiges
  WZ_CD      CHAR(5)  NOT NULL REFERENCES GEW_WZ (WZ_CD),  -- Wirtschaftszweig
  TAET_TXT   CHAR(80) NOT NULL DEFAULT ' ',         -- angemeldete Tätigkeit, free text
  BESCH_ANZ  SMALLINT NOT NULL DEFAULT 0,           -- Zahl der Beschäftigten
  STAMMKAP   CHAR(15) NOT NULL DEFAULT ' ',         -- Stamm-/Grundkapital '      25.000,00', right-aligned
  KAP_WAEHR  CHAR(3)  NOT NULL DEFAULT ' ',         -- its currency: DEM, EUR, GBP; blank if none
  GEW_BEG_DAT CHAR(8) NOT NULL DEFAULT '00000000',  -- Beginn der Tätigkeit, YYYYMMDD
  GEW_END_DAT CHAR(8) NOT NULL DEFAULT '00000000',  -- Ende der Tätigkeit, YYYYMMDD; '00000000' while active
  STAT_KZ    CHAR(1)  NOT NULL DEFAULT 'A'          -- Status: A aktiv, E erloschen (abgemeldet)
);

-- Personen: owners (Inhaber), partners, managing directors and board members of a Betrieb.
CREATE TABLE GEW_PERSON (
  PERS_NR    INTEGER  NOT NULL PRIMARY KEY,         -- Personennummer, generated
  BETR_NR    INTEGER  NOT NULL REFERENCES GEW_BETRIEB (BETR_NR),
  ROLLE_CD   CHAR(1)  NOT NULL,                     -- I Inhaber, S Gesellschafter, G Geschäftsführer, V Vorstand
  FAM_NAME   CHAR(40) NOT NULL,                     -- Familienname
  VOR_NAME   CHAR(40) NOT NULL DEFAULT ' ',         -- Vornamen
  GEB_NAME   CHAR(40) NOT NULL DEFAULT ' ',         -- Geburtsname, blank if the same
  GESCHL     CHAR(1)  NOT NULL DEFAULT ' ',         -- M, W, D; blank in records migrated without it
  GEB_DAT    CHAR(10) NOT NULL DEFAULT '00.00.0000',  -- Geburtsdatum, DD.MM.YYYY
  GEB_ORT    CHAR(40) NOT NULL DEFAULT ' ',         -- Geburtsort
  STAATSANG  CHAR(20) NOT NULL DEFAULT ' ',         -- Staatsangehörigkeit, as written on the form
  W_STR      CHAR(40) NOT NULL DEFAULT ' ',         -- Wohnanschrift: Straße
  W_HNR      CHAR(6)  NOT NULL DEFAULT ' ',         -- Wohnanschrift: Hausnummer
  W_PLZ      CHAR(5)  NOT NULL DEFAULT '     ',     -- Wohnanschrift: Postleitzahl, blank if unknown
  W_ORT      CHAR(40) NOT NULL DEFAULT ' '          -- Wohnanschrift: Ort
);

-- Anmeldungen: every Gewerbeanzeige received for a Betrieb (GewA 1 Anmeldung, GewA 2
-- Ummeldung, GewA 3 Abmeldung), with the fee charged for it.
CREATE TABLE GEW_ANMELDUNG (
  ANM_NR     INTEGER  NOT NULL PRIMARY KEY,         -- laufende Nummer der Anzeige, generated
  BETR_NR    INTEGER  NOT NULL REFERENCES GEW_BETRIEB (BETR_NR),
  ANM_ART    CHAR(2)  NOT NULL,                     -- Anzeigeart, numeric code (01..05, 11..12, 21..24)
  ANZ_DAT    CHAR(10) NOT NULL DEFAULT '00.00.0000',  -- Eingang der Anzeige, DD.MM.YYYY
  WIRK_DAT   CHAR(8)  NOT NULL DEFAULT '00000000',  -- wirksam ab (Beginn, Änderung, Aufgabe), YYYYMMDD
  GEBUEHR    CHAR(9)  NOT NULL DEFAULT '     0,00',  -- Verwaltungsgebühr in EUR, decimal comma
  ZAHL_KZ    CHAR(1)  NOT NULL DEFAULT 'O',         -- B bezahlt, O offen, F gebührenfrei
  SB_KZ      CHAR(8)  NOT NULL DEFAULT ' ',         -- Kürzel des Sachbearbeiters
  BEMERK     CHAR(60) NOT NULL DEFAULT ' ',         -- Bemerkung
  ERF_TS     CHAR(14) NOT NULL DEFAULT '00000000000000'  -- erfasst am, YYYYMMDDHHMMSS
);

CREATE INDEX GEW_BETR_I1 ON GEW_BETRIEB (PLZ);
CREATE INDEX GEW_BETR_I2 ON GEW_BETRIEB (BETR_NAME);
CREATE INDEX GEW_PERS_I1 ON GEW_PERSON (BETR_NR);
CREATE INDEX GEW_PERS_I2 ON GEW_PERSON (FAM_NAME, VOR_NAME);
CREATE INDEX GEW_ANM_I1 ON GEW_ANMELDUNG (BETR_NR);
