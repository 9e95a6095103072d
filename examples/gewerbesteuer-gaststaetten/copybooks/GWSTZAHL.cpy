000100*================================================================*
000200* GWSTZAHL   GEWERBESTEUER - ZAHLUNGSEINGAENGE UND ERSTATTUNGEN  *
000300*            AUSZUG AUS DEM HKR-VERFAHREN DER STADTKASSE         *
000400*            RECFM=FB, LRECL=120, CODEPAGE IBM-1141              *
000500*----------------------------------------------------------------*
000600* 1994-03-11 KASSE  NEU                                          *
000700* 2001-10-02 KASSE  EURO-UMSTELLUNG: BETRAEGE IN EUR             *
000800* 2013-05-27 KASSE  SAEUMNISZUSCHLAG AUS FILLER                  *
000900*================================================================*
001000 01  GWST-ZAHLUNG.
001100     05  GZ-BUCHUNGS-NR          PIC 9(11)       COMP-3.
001200     05  GZ-KASSENZEICHEN        PIC X(15).
001300     05  GZ-BETR-NR              PIC 9(9)        COMP-3.
001400     05  GZ-STPFL-NAME           PIC X(40).
001500     05  GZ-ERHEB-JAHR           PIC 9(4).
001600     05  GZ-ZAHLART              PIC X.
001700         88  GZ-VORAUSZAHLUNG               VALUE 'V'.
001800         88  GZ-ABSCHLUSSZAHLUNG            VALUE 'A'.
001900         88  GZ-ERSTATTUNG                  VALUE 'E'.
002000     05  GZ-FAELLIG-DAT          PIC 9(8).
002100     05  GZ-BUCHUNGS-DAT         PIC 9(8).
002200     05  GZ-BETRAG               PIC S9(9)V99    COMP-3.
002300     05  GZ-HEBESATZ             PIC 9(3)        COMP-3.
002400     05  GZ-SAEUMNIS-ZUSCHL      PIC S9(5)V99.
002500     05  FILLER                  PIC X(18).
