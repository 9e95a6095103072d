      * DTAZV (Datentraegeraustausch Auslandszahlungsverkehr), Deutsche
      * Bundesbank: Q = Auftraggebersatz (256 bytes), T = Einzelzahlung
      * (768 bytes), Z = Dateinachsatz (256 bytes). Satzart at byte 5.
       01  Q-SATZ.
           05  Q-SATZLAENGE        PIC 9(4).
           05  Q-SATZART           PIC X.
           05  Q-BLZ               PIC 9(8).
           05  Q-KONTONR           PIC 9(10).
           05  Q-AUFTRAGGEBER      PIC X(35) OCCURS 4.
           05  Q-ERSTELLDATUM      PIC 9(6).
           05  Q-LFD-NR            PIC 9(2).
           05  Q-AUSFUEHRUNG       PIC 9(6).
           05  Q-MELDUNG           PIC X.
               88  Q-MELDUNG-JA    VALUE 'J'.
               88  Q-MELDUNG-NEIN  VALUE 'N'.
           05  Q-BUNDESLAND        PIC 9(2).
           05  Q-FIRMENNR          PIC X(8).
           05  FILLER              PIC X(68).
       01  T-SATZ.
           05  T-SATZLAENGE        PIC 9(4).
           05  T-SATZART           PIC X.
           05  T-BLZ               PIC 9(8).
           05  T-WAEHRUNG          PIC X(3).
           05  T-KONTONR           PIC 9(10).
           05  T-AUSFUEHRUNG       PIC 9(6).
           05  T-ENTGELT-KONTO.
               10  T-ENTGELT-BLZ   PIC 9(8).
               10  T-ENTGELT-WAEHRUNG PIC X(3).
               10  T-ENTGELT-KONTONR  PIC 9(10).
           05  T-BIC               PIC X(11).
           05  T-BANK-LAND         PIC X(3).
           05  T-BANK-ADRESSE      PIC X(35) OCCURS 4.
           05  T-EMPF-LAND         PIC X(3).
           05  T-EMPFAENGER        PIC X(35) OCCURS 4.
           05  T-ORDERVERMERK      PIC X(35) OCCURS 2.
           05  T-IBAN              PIC X(35).
           05  T-BETRAG-WAEHRUNG   PIC X(3).
           05  T-BETRAG            PIC 9(14)V9(3).
           05  T-VERWENDUNG        PIC X(35) OCCURS 4.
           05  T-WEISUNG           PIC 9(2) OCCURS 4.
           05  T-WEISUNG-TEXT      PIC X(25).
           05  T-ENTGELTREGELUNG   PIC 9(2).
           05  T-ZAHLUNGSART       PIC 9(2).
           05  T-TEXT              PIC X(27).
           05  T-ANSPRECHPARTNER   PIC X(35).
           05  T-MELDESCHLUESSEL   PIC 9.
           05  FILLER              PIC X(51).
           05  T-MELDETEIL         PIC 9(2).
       01  Z-SATZ.
           05  Z-SATZLAENGE        PIC 9(4).
           05  Z-SATZART           PIC X.
           05  Z-SUMME             PIC 9(15).
           05  Z-ANZAHL            PIC 9(15).
           05  FILLER              PIC X(221).
