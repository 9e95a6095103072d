#!/usr/bin/env python3
"""Generates the example Gewerberegister: a SQLite database in the legacy schema of schema.sql,
filled with synthetic but plausible trade-register data (Betriebe, Personen, Anmeldungen).

The output is deterministic for a given --seed and --betriebe: the same arguments give the same
rows on every machine. Python 3 standard library only.

    generate.py                          # 5,000 Betriebe -> data/gewerbe.db next to this file
    generate.py --betriebe 100000        # benchmark size (about 3x as many Anmeldungen)
    generate.py --output /tmp/x.db --seed 7

All names, addresses and dates are invented; any likeness to real persons is chance.
"""

import argparse
import bisect
import datetime
import itertools
import os
import random
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The day the register is "as of": fixed, so that output does not depend on when it is run.
STICHTAG = datetime.date(2025, 6, 30)
# The Fachverfahren went live on this day; older Anzeigen were migrated from the card index.
GO_LIVE = datetime.date(1993, 1, 4)
FIRST_BEGINN = datetime.date(1965, 1, 1)
EURO_DAY = datetime.date(2002, 1, 1)
GEWERBEGESETZ_DDR = datetime.date(1990, 3, 6)

# ---------------------------------------------------------------------------------------------
# Code lists. What each code means for the API is defined once, in fachadapter.yaml (`codes`);
# the names here only make the generator readable.

# RF_CD -> Rechtsform, with weight and the first day it existed (UG: MoMiG, 1 Nov 2008).
RECHTSFORMEN = [
    # code, name,                        weight, from,                     until
    (1, "Einzelunternehmen",              620, None,                       None),
    (2, "Eingetragener Kaufmann (e. K.)",  40, datetime.date(1998, 7, 1), None),
    (3, "GbR",                             90, None,                       None),
    (4, "OHG",                             10, None,                       None),
    (5, "KG",                              10, None,                       None),
    (6, "GmbH & Co. KG",                   30, None,                       None),
    (7, "GmbH",                           150, None,                       None),
    (8, "UG (haftungsbeschränkt)",         30, datetime.date(2008, 11, 1), None),
    (9, "AG",                               5, None,                       None),
    (10, "eG",                              3, None,                       None),
    (11, "Ltd.",                           10, datetime.date(2003, 1, 1), datetime.date(2020, 12, 31)),
    (12, "e. V.",                           5, None,                       None),
]
RF_TOTAL = sum(r[2] for r in RECHTSFORMEN)
RF_SUFFIX = {1: "", 2: " e. K.", 3: " GbR", 4: " OHG", 5: " KG", 6: " GmbH & Co. KG", 7: " GmbH",
             8: " UG (haftungsbeschränkt)", 9: " AG", 10: " eG", 11: " Ltd.", 12: " e. V."}
RF_REGISTER = {2: "HRA", 4: "HRA", 5: "HRA", 6: "HRA", 7: "HRB", 8: "HRB", 9: "HRB", 10: "GnR",
               11: "HRB", 12: "VR"}
# Who the Personen of a Betrieb are: role code and how many (min, max).
RF_ROLLEN = {1: ("I", 1, 1), 2: ("I", 1, 1), 3: ("S", 2, 3), 4: ("S", 2, 3), 5: ("S", 1, 2),
             6: ("G", 1, 2), 7: ("G", 1, 2), 8: ("G", 1, 1), 9: ("V", 1, 3), 10: ("V", 2, 3),
             11: ("G", 1, 1), 12: ("V", 1, 2)}

# ANM_ART: 01..05 Anmeldung (GewA 1), 11..12 Ummeldung (GewA 2), 21..24 Abmeldung (GewA 3);
# the meaning of each code is in fachadapter.yaml (Anmeldung.anzeigeart) and README.md.

# Wirtschaftszweige (WZ 2008 classes): code, title, BETR_ART, permit needed, weight,
# words for business names, activity texts, first year it is plausible.
WZ = [
    ("10.13", "Fleischverarbeitung", "H", "N", 10,
     ["Fleischerei", "Metzgerei", "Landfleischerei"],
     ["Fleischerei mit Verkauf von Fleisch- und Wurstwaren", "Herstellung von Wurstwaren"], 0),
    ("10.71", "Herstellung von Backwaren (ohne Dauerbackwaren)", "H", "N", 25,
     ["Bäckerei", "Backstube", "Bäckerei und Konditorei"],
     ["Bäckerei mit Verkauf von Backwaren", "Herstellung und Verkauf von Brot und Backwaren",
      "Konditorei und Café"], 0),
    ("18.12", "Drucken a. n. g.", "I", "N", 6,
     ["Druckerei", "Druckhaus", "Digitaldruck"],
     ["Offset- und Digitaldruck", "Druckerei und Weiterverarbeitung"], 0),
    ("25.62", "Mechanik a. n. g.", "I", "N", 6,
     ["Metallbau", "Feinmechanik", "CNC-Technik", "Dreherei"],
     ["Dreherei und Fräserei (Lohnfertigung)", "Mechanische Bearbeitung von Metallteilen"], 0),
    ("41.20", "Bau von Gebäuden", "H", "N", 18,
     ["Bau", "Hochbau", "Bauunternehmen"],
     ["Hochbau, Errichtung von Wohn- und Geschäftsgebäuden", "Maurer- und Betonbauerhandwerk"], 0),
    ("43.21", "Elektroinstallation", "H", "N", 35,
     ["Elektro", "Elektrotechnik", "Elektroinstallation"],
     ["Elektroinstallation", "Elektrotechnikerhandwerk, Installation von Beleuchtungsanlagen",
      "Installation von Photovoltaikanlagen"], 0),
    ("43.22", "Gas-, Wasser-, Heizungs- sowie Lüftungs- und Klimainstallation", "H", "N", 28,
     ["Sanitär", "Heizung und Sanitär", "Haustechnik"],
     ["Installateur- und Heizungsbauerhandwerk", "Sanitär- und Heizungsinstallation",
      "Wartung von Heizungsanlagen"], 0),
    ("43.32", "Bautischlerei und -schlosserei", "H", "N", 12,
     ["Tischlerei", "Schreinerei", "Bautischlerei"],
     ["Tischlerhandwerk, Einbau von Fenstern und Türen", "Tischlerei (Möbel und Innenausbau)"], 0),
    ("43.34", "Maler- und Glasergewerbe", "H", "N", 28,
     ["Malerbetrieb", "Malermeister", "Malerei"],
     ["Maler- und Lackiererarbeiten", "Maler- und Tapezierarbeiten, Fassadengestaltung"], 0),
    ("43.91", "Dachdeckerei und Zimmerei", "H", "N", 8,
     ["Dachdeckerei", "Bedachungen", "Zimmerei"],
     ["Dachdeckerarbeiten", "Zimmerer- und Dachdeckerarbeiten"], 0),
    ("45.11", "Handel mit Kraftwagen mit einem Gesamtgewicht von 3,5 t oder weniger", "K", "N", 16,
     ["Autohaus", "Autohandel", "Automobile"],
     ["Handel mit Gebrauchtwagen", "An- und Verkauf von Kraftfahrzeugen",
      "Neuwagenhandel und Vermittlung"], 0),
    ("45.20", "Instandhaltung und Reparatur von Kraftwagen", "H", "N", 24,
     ["Kfz-Werkstatt", "Autoservice", "Kfz-Meisterbetrieb"],
     ["Kfz-Reparatur und Wartung", "Reparatur von Kraftfahrzeugen, Reifenservice"], 0),
    ("46.90", "Großhandel ohne ausgeprägten Schwerpunkt", "K", "N", 14,
     ["Großhandel", "Handelsgesellschaft", "Import-Export"],
     ["Groß- und Außenhandel mit Waren aller Art",
      "Import und Export von Waren aller Art (ohne erlaubnispflichtige Waren)"], 0),
    ("47.11", "Einzelhandel mit Waren verschiedener Art, Hauptrichtung Nahrungs- und "
              "Genussmittel, Getränke und Tabakwaren", "K", "N", 45,
     ["Lebensmittel", "Spätkauf", "Getränkemarkt", "Kiosk", "Minimarkt"],
     ["Einzelhandel mit Lebensmitteln, Getränken und Tabakwaren", "Spätverkauf (Kiosk)",
      "Lebensmitteleinzelhandel"], 0),
    ("47.30", "Einzelhandel mit Motorenkraftstoffen (Tankstellen)", "K", "N", 5,
     ["Tankstelle", "Tankcenter"],
     ["Betrieb einer Tankstelle mit Shop"], 0),
    ("47.71", "Einzelhandel mit Bekleidung", "K", "N", 25,
     ["Modehaus", "Boutique", "Mode"],
     ["Einzelhandel mit Damen- und Herrenbekleidung", "Verkauf von Textilien und Accessoires"], 0),
    ("47.76", "Einzelhandel mit Blumen, Pflanzen, Sämereien, Düngemitteln, zoologischem Bedarf "
              "und lebenden Tieren", "K", "N", 14,
     ["Blumen", "Blumenhaus", "Floristik"],
     ["Einzelhandel mit Blumen und Pflanzen, Floristik", "Blumenladen"], 0),
    ("47.91", "Versand- und Internet-Einzelhandel", "K", "N", 40,
     ["Online-Handel", "Versandhandel", "Webshop"],
     ["Onlinehandel mit Waren aller Art (ohne erlaubnispflichtige Waren)",
      "Internethandel mit Bekleidung und Accessoires", "Verkauf über Internetplattformen"], 1998),
    ("49.32", "Betrieb von Taxis", "S", "J", 20,
     ["Taxi", "Taxiunternehmen", "Taxibetrieb"],
     ["Taxiunternehmen", "Personenbeförderung mit Taxen"], 0),
    ("49.41", "Güterbeförderung im Straßenverkehr", "S", "J", 18,
     ["Transporte", "Spedition", "Kurierdienst"],
     ["Güterkraftverkehr", "Kurier- und Expressdienst", "Transporte und Umzüge"], 0),
    ("55.10", "Hotels, Gasthöfe und Pensionen", "S", "N", 6,
     ["Hotel", "Pension", "Gästehaus"],
     ["Betrieb eines Hotels garni", "Beherbergung (Pension)"], 0),
    ("56.10", "Restaurants, Gaststätten, Imbissstuben, Cafés, Eissalons u. Ä.", "S", "J", 55,
     ["Restaurant", "Gaststätte", "Imbiss", "Café", "Eiscafé", "Pizzeria"],
     ["Gaststätte mit Alkoholausschank", "Imbiss ohne Alkoholausschank", "Café und Eiscafé",
      "Restaurant (Speisewirtschaft)"], 0),
    ("56.30", "Ausschank von Getränken", "S", "J", 16,
     ["Bar", "Kneipe", "Schankwirtschaft", "Weinstube"],
     ["Schankwirtschaft (Kneipe)", "Bar mit Ausschank alkoholischer Getränke"], 0),
    ("62.01", "Programmierungstätigkeiten", "S", "N", 30,
     ["Software", "Softwareentwicklung", "IT-Service"],
     ["Entwicklung von Software", "Programmierung von Webseiten und Apps"], 1985),
    ("62.02", "Erbringung von Beratungsleistungen auf dem Gebiet der Informationstechnologie",
     "S", "N", 18,
     ["IT-Beratung", "IT-Consulting", "EDV-Service"],
     ["IT-Beratung", "EDV-Dienstleistungen, Installation und Wartung von Computern"], 1985),
    ("66.22", "Tätigkeit von Versicherungsmaklerinnen und -maklern", "S", "J", 12,
     ["Versicherungsmakler", "Versicherungsbüro", "Finanzservice"],
     ["Versicherungsvermittlung nach § 34d GewO", "Versicherungsmakler"], 0),
    ("68.31", "Vermittlung von Grundstücken, Gebäuden und Wohnungen für Dritte", "S", "J", 16,
     ["Immobilien", "Immobilienmakler", "Hausverwaltung"],
     ["Immobilienmakler nach § 34c GewO", "Vermittlung von Wohnungen und Gewerbeobjekten"], 0),
    ("70.22", "Unternehmensberatung", "S", "N", 18,
     ["Unternehmensberatung", "Consulting", "Beratung"],
     ["Unternehmensberatung", "Beratung von Unternehmen in Fragen der Organisation"], 0),
    ("74.20", "Fotografie und Fotolabors", "H", "N", 8,
     ["Fotostudio", "Fotografie", "Foto"],
     ["Fotografie (Porträt- und Hochzeitsfotografie)", "Fotostudio"], 0),
    ("80.10", "Private Wach- und Sicherheitsdienste", "S", "J", 8,
     ["Sicherheitsdienst", "Security", "Objektschutz"],
     ["Bewachungsgewerbe nach § 34a GewO", "Objekt- und Veranstaltungsschutz"], 0),
    ("81.21", "Allgemeine Gebäudereinigung", "H", "N", 35,
     ["Gebäudereinigung", "Reinigungsservice", "Glas- und Gebäudereinigung"],
     ["Gebäudereinigung", "Unterhalts- und Glasreinigung",
      "Reinigung von Büros und Treppenhäusern"], 0),
    ("92.00", "Spiel-, Wett- und Lotteriewesen", "S", "J", 5,
     ["Spielhalle", "Spielothek", "Wettbüro"],
     ["Betrieb einer Spielhalle nach § 33i GewO", "Vermittlung von Sportwetten"], 0),
    ("93.13", "Fitnesszentren", "S", "N", 8,
     ["Fitnessstudio", "Fitness", "Sportstudio"],
     ["Betrieb eines Fitnessstudios", "Fitness- und Gesundheitssport"], 1980),
    ("95.23", "Reparatur von Schuhen und Lederwaren", "H", "N", 5,
     ["Schuhmacherei", "Schuhservice", "Schlüssel- und Schuhdienst"],
     ["Schuhreparatur und Schlüsseldienst", "Schuhmacherhandwerk"], 0),
    ("96.02", "Frisör- und Kosmetiksalons", "H", "N", 45,
     ["Friseur", "Friseursalon", "Haarstudio", "Kosmetikstudio"],
     ["Friseurhandwerk", "Kosmetik und Nageldesign", "Damen- und Herrenfriseur"], 0),
    ("96.04", "Saunas, Solarien, Bäder u. Ä.", "S", "N", 5,
     ["Sonnenstudio", "Sauna", "Wellness"],
     ["Betrieb eines Sonnenstudios", "Sauna und Wellness"], 1980),
]

# Cities: name, Registergericht, Vorwahl, weight, river (for business names), PLZ of the city,
# streets typical of it, and (PLZ, Ort) of places around it where owners live.
GENERIC_STREETS = [
    "Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Lindenstraße", "Kirchstraße",
    "Waldstraße", "Ringstraße", "Goethestraße", "Schillerstraße", "Mozartstraße", "Lessingstraße",
    "Am Markt", "Poststraße", "Mühlenweg", "Birkenweg", "Feldstraße", "Wiesenweg", "Rosenstraße",
    "Jahnstraße", "Parkstraße", "Uhlandstraße", "Industriestraße", "Gewerbering", "Grüner Weg",
    "Brückenstraße", "Blumenstraße", "Eichendorffstraße", "Heinrich-Heine-Straße", "Schloßstraße",
    "Weißdornweg", "Fröbelstraße", "Kurze Straße", "Lange Straße", "Wilhelmstraße",
    "Friedrich-Ebert-Straße", "Bismarckstraße", "Beethovenstraße", "Gutenbergstraße",
    "An der Mühle", "Am Sportplatz", "Gießereistraße", "Große Straße", "Kastanienallee",
]
STAEDTE = [
    ("Berlin", "Amtsgericht Charlottenburg", "030", 25, "Spree",
     "10115 10117 10119 10178 10179 10243 10245 10247 10249 10405 10407 10435 10437 10439 10551 "
     "10553 10585 10587 10623 10627 10629 10707 10709 10711 10777 10779 10781 10823 10825 10827 "
     "10961 10963 10965 10967 10969 10997 10999 12043 12045 12047 12049 12051 12099 12101 12103 "
     "12157 12159 12163 12203 12205 12435 12437 12459 12487 12555 12557 12619 12627 12679 12681 "
     "13051 13053 13055 13086 13088 13156 13187 13189 13347 13349 13351 13353 13357 13359 13403 "
     "13405 13407 13409 13437 13439 13581 13583 13585 13587 13589 13591 13593 13595 13597 13599 "
     "14050 14052 14053 14055 14057 14059 14089 14109 14129 14163 14165 14167 14169 14193 14195",
     ["Karl-Marx-Straße", "Sonnenallee", "Kurfürstendamm", "Schönhauser Allee", "Frankfurter Allee",
      "Müllerstraße", "Oranienstraße", "Kantstraße", "Wilmersdorfer Straße", "Turmstraße",
      "Torstraße", "Bergmannstraße", "Greifswalder Straße", "Hermannstraße", "Badstraße"],
     [("14467", "Potsdam"), ("14612", "Falkensee"), ("16515", "Oranienburg"),
      ("15711", "Königs Wusterhausen"), ("15366", "Hoppegarten"), ("14513", "Teltow")]),
    ("Hamburg", "Amtsgericht Hamburg", "040", 12, "Alster",
     "20095 20097 20099 20144 20146 20148 20149 20249 20251 20253 20255 20257 20259 20354 20355 "
     "20357 20359 20457 20459 20535 20537 21029 21031 21033 21073 21075 22041 22043 22045 22081 "
     "22083 22085 22087 22089 22111 22143 22145 22147 22299 22301 22303 22305 22307 22309 22525 "
     "22527 22529 22547 22549 22559 22587 22589 22605 22607 22609 22761 22763 22765 22767 22769",
     ["Mönckebergstraße", "Osterstraße", "Eppendorfer Weg", "Lange Reihe", "Fuhlsbüttler Straße",
      "Wandsbeker Chaussee", "Große Bergstraße", "Ottenser Hauptstraße", "Steindamm",
      "Barmbeker Straße"],
     [("22844", "Norderstedt"), ("25421", "Pinneberg"), ("22880", "Wedel"), ("21465", "Reinbek"),
      ("22926", "Ahrensburg"), ("21218", "Seevetal")]),
    ("München", "Amtsgericht München", "089", 11, "Isar",
     "80331 80333 80335 80336 80337 80339 80469 80538 80539 80634 80636 80637 80638 80639 80686 "
     "80687 80689 80796 80797 80798 80799 80801 80802 80803 80804 80805 80807 80809 80933 80935 "
     "80937 80939 80992 80993 80995 80997 80999 81241 81243 81245 81247 81249 81369 81371 81373 "
     "81375 81377 81379 81475 81476 81477 81479 81539 81541 81543 81545 81547 81549 81669 81671 "
     "81673 81675 81677 81679 81735 81737 81739 81825 81827 81829 81925 81927 81929",
     ["Leopoldstraße", "Sendlinger Straße", "Lindwurmstraße", "Rosenheimer Straße",
      "Landsberger Straße", "Dachauer Straße", "Schleißheimer Straße", "Fraunhoferstraße",
      "Tegernseer Landstraße", "Türkenstraße"],
     [("85221", "Dachau"), ("85354", "Freising"), ("82110", "Germering"), ("82319", "Starnberg"),
      ("82140", "Olching"), ("85737", "Ismaning")]),
    ("Köln", "Amtsgericht Köln", "0221", 8, "Rhein",
     "50667 50668 50670 50672 50674 50676 50677 50678 50679 50733 50735 50737 50739 50765 50767 "
     "50769 50823 50825 50827 50829 50858 50859 50931 50933 50935 50937 50939 50968 50969 50996 "
     "50997 50999 51061 51063 51065 51067 51069 51103 51105 51107 51109 51143 51145 51147 51149",
     ["Hohe Straße", "Schildergasse", "Venloer Straße", "Aachener Straße", "Zülpicher Straße",
      "Severinstraße", "Neusser Straße", "Deutzer Freiheit", "Frankfurter Straße",
      "Bonner Straße"],
     [("51373", "Leverkusen"), ("50354", "Hürth"), ("53111", "Bonn"), ("50126", "Bergheim"),
      ("51429", "Bergisch Gladbach"), ("50226", "Frechen")]),
    ("Frankfurt am Main", "Amtsgericht Frankfurt am Main", "069", 6, "Main",
     "60306 60308 60310 60311 60313 60314 60316 60318 60320 60322 60323 60325 60326 60327 60329 "
     "60385 60386 60388 60389 60431 60433 60435 60437 60438 60439 60486 60487 60488 60489 60528 "
     "60529 60549 60594 60596 60598 60599 65929 65931 65933 65934 65936",
     ["Zeil", "Berger Straße", "Leipziger Straße", "Schweizer Straße", "Mainzer Landstraße",
      "Hanauer Landstraße", "Eschersheimer Landstraße", "Kaiserstraße", "Münchener Straße",
      "Große Friedberger Straße"],
     [("63065", "Offenbach am Main"), ("65183", "Wiesbaden"), ("61348", "Bad Homburg v. d. Höhe"),
      ("63263", "Neu-Isenburg"), ("61440", "Oberursel (Taunus)"), ("65760", "Eschborn")]),
    ("Stuttgart", "Amtsgericht Stuttgart", "0711", 5, "Neckar",
     "70173 70174 70176 70178 70180 70182 70184 70186 70188 70190 70191 70192 70193 70195 70197 "
     "70199 70327 70329 70372 70374 70376 70378 70435 70437 70439 70469 70499 70563 70565 70567 "
     "70569 70597 70599 70619 70629",
     ["Königstraße", "Marienstraße", "Tübinger Straße", "Hauptstätter Straße", "Neckarstraße",
      "Olgastraße", "Böblinger Straße", "Schwabstraße", "Rotebühlstraße", "Hohenheimer Straße"],
     [("71634", "Ludwigsburg"), ("73728", "Esslingen am Neckar"), ("71063", "Sindelfingen"),
      ("70734", "Fellbach"), ("71032", "Böblingen"), ("70771", "Leinfelden-Echterdingen")]),
    ("Düsseldorf", "Amtsgericht Düsseldorf", "0211", 5, "Rhein",
     "40210 40211 40212 40213 40215 40217 40219 40221 40223 40225 40227 40229 40231 40233 40235 "
     "40237 40239 40468 40470 40472 40474 40476 40477 40479 40489 40545 40547 40549 40589 40591 "
     "40593 40595 40597 40599 40625 40627 40629",
     ["Königsallee", "Schadowstraße", "Kölner Straße", "Nordstraße", "Ackerstraße",
      "Kaiserswerther Straße", "Lorettostraße", "Bilker Allee", "Luegallee", "Graf-Adolf-Straße"],
     [("41460", "Neuss"), ("40878", "Ratingen"), ("40721", "Hilden"),
      ("40764", "Langenfeld (Rheinland)"), ("40822", "Mettmann"), ("42103", "Wuppertal")]),
    ("Leipzig", "Amtsgericht Leipzig", "0341", 5, "Pleiße",
     "04103 04105 04107 04109 04129 04155 04157 04158 04159 04177 04178 04179 04205 04207 04209 "
     "04229 04249 04275 04277 04279 04289 04299 04315 04316 04317 04318 04319 04328 04329 04347 "
     "04349 04356 04357",
     ["Karl-Liebknecht-Straße", "Eisenbahnstraße", "Georg-Schwarz-Straße", "Grimmaische Straße",
      "Petersstraße", "Gohliser Straße", "Könneritzstraße", "Jahnallee", "Prager Straße",
      "Zschochersche Straße"],
     [("04416", "Markkleeberg"), ("06108", "Halle (Saale)"), ("04425", "Taucha"),
      ("04435", "Schkeuditz"), ("04509", "Delitzsch"), ("04808", "Wurzen")]),
    ("Dresden", "Amtsgericht Dresden", "0351", 4, "Elbe",
     "01067 01069 01097 01099 01108 01109 01127 01129 01139 01156 01157 01159 01169 01187 01189 "
     "01217 01219 01237 01239 01257 01259 01277 01279 01307 01309 01324 01326 01328",
     ["Prager Straße", "Königsbrücker Straße", "Louisenstraße", "Alaunstraße", "Bautzner Straße",
      "Wilsdruffer Straße", "Leipziger Straße", "Großenhainer Straße", "Schandauer Straße",
      "Hüblerstraße"],
     [("01445", "Radebeul"), ("01705", "Freital"), ("01796", "Pirna"), ("01454", "Radeberg"),
      ("01640", "Coswig"), ("01662", "Meißen")]),
    ("Nürnberg", "Amtsgericht Nürnberg", "0911", 4, "Pegnitz",
     "90402 90403 90408 90409 90411 90419 90425 90427 90429 90431 90439 90441 90443 90449 90451 "
     "90453 90455 90459 90461 90469 90471 90473 90475 90478 90480 90482 90489 90491",
     ["Königstraße", "Karolinenstraße", "Fürther Straße", "Allersberger Straße",
      "Äußere Sulzbacher Straße", "Breite Gasse", "Gibitzenhofstraße", "Pirckheimerstraße",
      "Rothenburger Straße", "Nopitschstraße"],
     [("91052", "Erlangen"), ("90762", "Fürth"), ("90518", "Altdorf b. Nürnberg"),
      ("91126", "Schwabach"), ("90522", "Oberasbach"), ("90537", "Feucht")]),
    ("Hannover", "Amtsgericht Hannover", "0511", 4, "Leine",
     "30159 30161 30163 30165 30167 30169 30171 30173 30175 30177 30179 30419 30449 30451 30453 "
     "30455 30457 30459 30519 30521 30539 30559 30625 30627 30629 30655 30657 30659 30669",
     ["Georgstraße", "Lister Meile", "Limmerstraße", "Engelbosteler Damm", "Podbielskistraße",
      "Hildesheimer Straße", "Göttinger Straße", "Vahrenwalder Straße", "Marienstraße",
      "Kramerstraße"],
     [("30880", "Laatzen"), ("30826", "Garbsen"), ("30853", "Langenhagen"), ("31515", "Wunstorf"),
      ("30900", "Wedemark"), ("30952", "Ronnenberg")]),
]

FANTASIE = ["Sonnen", "Stern", "Nordlicht", "Prima", "Meister", "Kiez", "Süd", "Nord", "West",
            "Ost", "City", "Euro", "Blau", "Grün", "Alpha", "Phönix", "Löwen", "Adler"]

# Origins of persons: surnames, male and female first names, birthplaces abroad,
# nationality as written on the form (STAATSANG), weight.
HERKUNFT = [
    ("deutsch",
     "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
     "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
     "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann "
     "König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert "
     "Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke "
     "Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger "
     "Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn "
     "Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Großmann "
     "Nußbaum Strauß Weißmann Bäumer Jürgens Gößling Hübner Lübke Dörr Fürst Schütz Wüst",
     "Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter Stefan Christian Uwe Werner Horst "
     "Frank Dieter Manfred Bernd Ralf Hans-Jürgen Jörg Matthias Sebastian Alexander Tobias Daniel "
     "Jan Lukas Jonas Björn Sören Karl-Heinz Rüdiger Hans-Peter Florian Maximilian Paul Felix",
     "Ursula Monika Petra Sabine Renate Helga Karin Brigitte Ingrid Susanne Andrea Birgit "
     "Gabriele Claudia Stefanie Nicole Katrin Julia Anna Lena Jana Sandra Bärbel Gisela Käthe "
     "Dörte Anke Maren Jördis Hannelore Christiane Annegret Sophie Marie Laura Jülide",
     [], 860),
    ("türkisch",
     "Yilmaz Kaya Demir Sahin Celik Yildiz Yildirim Öztürk Aydin Özdemir Arslan Dogan Kilic "
     "Aslan Cetin Kara Koc Kurt Özkan Simsek Polat Korkmaz",
     "Mehmet Mustafa Ahmet Ali Hüseyin Hasan Ibrahim Ismail Osman Yusuf Murat Emre Burak Serkan",
     "Fatma Ayse Emine Hatice Zeynep Elif Meryem Sevgi Gül Özlem Derya Esra Melek Hülya",
     ["Istanbul", "Ankara", "Izmir", "Adana", "Konya", "Kayseri", "Trabzon"], 45),
    ("polnisch",
     "Nowak Kowalski Wisniewski Wójcik Kowalczyk Kaminski Lewandowski Zielinski Szymanski "
     "Wozniak Dabrowski Kozlowski Jankowski Mazur",
     "Piotr Krzysztof Andrzej Tomasz Pawel Marek Michal Grzegorz Jan Lukasz",
     "Anna Maria Katarzyna Malgorzata Agnieszka Barbara Ewa Magdalena Joanna Zofia",
     ["Warschau", "Krakau", "Danzig", "Breslau", "Posen", "Stettin", "Lodz"], 25),
    ("italienisch",
     "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti",
     "Giuseppe Giovanni Antonio Mario Luigi Francesco Salvatore Marco Alessandro Luca",
     "Maria Anna Giuseppina Rosa Angela Giovanna Teresa Lucia Francesca Giulia",
     ["Neapel", "Palermo", "Bari", "Catania", "Rom", "Mailand", "Turin"], 18),
    ("griechisch",
     "Papadopoulos Papadopoulou Georgiou Dimitriou Nikolaou Ioannou Konstantinou Vlachos "
     "Papageorgiou Oikonomou",
     "Georgios Dimitrios Konstantinos Ioannis Nikolaos Panagiotis Vasileios Christos",
     "Maria Eleni Aikaterini Vasiliki Sofia Angeliki Georgia Dimitra",
     ["Thessaloniki", "Athen", "Patras", "Ioannina", "Kavala"], 10),
    ("vietnamesisch",
     "Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Ho Ngo",
     "Minh Tuan Hung Duc Nam Long Thanh Quang Hieu",
     "Linh Lan Huong Mai Thu Hoa Ngoc Trang Thao",
     ["Hanoi", "Haiphong", "Ho-Chi-Minh-Stadt", "Hue", "Nam Dinh"], 14),
    ("rumänisch",
     "Popescu Ionescu Popa Pop Radu Dumitru Stan Stoica Gheorghe Munteanu",
     "Ion Gheorghe Vasile Constantin Alexandru Andrei Mihai Florin",
     "Maria Elena Ioana Ana Mihaela Andreea Cristina Gabriela",
     ["Bukarest", "Temeswar", "Klausenburg", "Jassy", "Konstanza"], 10),
    ("kroatisch",
     "Horvat Kovacevic Babic Maric Juric Novak Knezevic Vukovic Markovic Petrovic",
     "Ivan Josip Marko Tomislav Stjepan Ante Mario Zoran",
     "Marija Ana Ivana Kata Mara Snjezana Vesna Jasna",
     ["Zagreb", "Split", "Rijeka", "Osijek", "Zadar"], 8),
    ("österreichisch",
     "Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Leitner",
     "Johann Franz Josef Karl Alois Martin Florian Lukas",
     "Maria Elisabeth Theresia Johanna Katharina Christina Barbara Lisa",
     ["Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt"], 10),
]
GEBURTSORTE_DE = [
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
    "Leipzig", "Dresden", "Nürnberg", "Hannover", "Chemnitz", "Rostock", "Magdeburg", "Erfurt",
    "Görlitz", "Würzburg", "Lübeck", "Gelsenkirchen", "Bochum", "Saarbrücken", "Osnabrück",
    "Münster", "Göttingen", "Bremen", "Kassel", "Karl-Marx-Stadt", "Halle (Saale)", "Cottbus",
    "Schwäbisch Hall", "Mönchengladbach", "Fürth", "Gießen", "Jena", "Zwickau", "Kiel",
]

SACHBEARBEITER = {  # per decade of data entry: user names of the clerks of that time
    1990: ["KRAUSEH", "MEIERB", "SCHULZEG", "HOFFMANN"],
    2000: ["MEIERB", "SCHULZEG", "WOLFR", "BECKERS", "LANGEK"],
    2010: ["WOLFR", "BECKERS", "LANGEK", "OEZTUERK", "NGUYENL", "KOCHJ"],
    2020: ["BECKERS", "NGUYENL", "KOCHJ", "SCHMIDTA", "YILMAZE", "DOERRM"],
}

# Fees (Verwaltungsgebühr) in EUR by era and Anzeige kind; one level per city. Amounts before
# 2002 were entered in DM and converted at 1.95583 by the Euro changeover batch job.
GEBUEHREN = {
    "alt": {"A": ["10,23", "15,34", "20,45", "25,56"], "U": ["10,23", "15,34"],
            "E": ["0,00", "0,00", "10,23"]},
    "euro": {"A": ["15,00", "20,00", "25,00", "30,00"], "U": ["15,00", "20,00"],
             "E": ["0,00", "10,00", "15,00"]},
    "neu": {"A": ["26,00", "20,00", "31,00", "40,00", "50,00"], "U": ["20,00", "26,00", "30,00"],
            "E": ["0,00", "15,00", "20,00", "0,00"]},
}


# ---------------------------------------------------------------------------------------------

def pad(text, width):
    """A CHAR(width) value as the legacy system stores it: cut to width, blank-padded."""
    return text[:width].ljust(width)


def lpad(text, width):
    """A right-aligned CHAR(width) value (amounts)."""
    return text[:width].rjust(width)


def ymd(d):
    return "%04d%02d%02d" % (d.year, d.month, d.day)


def dmy(d):
    return "%02d.%02d.%04d" % (d.day, d.month, d.year)


def amount(value):
    """Integer amount -> German text with '.' grouping and ',00', e.g. 25000 -> '25.000,00'."""
    return "{:,}".format(value).replace(",", ".") + ",00"


class Weighted:
    """Fast weighted choice over a fixed list (bisect over cumulative weights)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rnd):
        return self.items[bisect.bisect_right(self.cum, rnd() * self.total)]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.staedte = []
        for name, gericht, vorwahl, weight, fluss, plz, streets, umland in STAEDTE:
            self.staedte.append({
                "name": name, "gericht": gericht, "vorwahl": vorwahl, "fluss": fluss,
                "plz": plz.split(), "streets": streets + GENERIC_STREETS, "umland": umland,
            })
        self.stadt_w = Weighted(range(len(STAEDTE)), [s[3] for s in STAEDTE])
        self.wz_w = Weighted(range(len(WZ)), [w[4] for w in WZ])
        self.herkunft = []
        for nat, sur, male, female, orte, weight in HERKUNFT:
            self.herkunft.append((nat, sur.split(), male.split(), female.split(), orte))
        self.herkunft_w = Weighted(range(len(HERKUNFT)), [h[5] for h in HERKUNFT])
        self.deutsch = self.herkunft[0]
        self.first_ord = FIRST_BEGINN.toordinal()
        self.last_ord = (STICHTAG - datetime.timedelta(days=14)).toordinal()

    # -- small helpers ------------------------------------------------------------------------
    def choice(self, seq):
        return seq[int(self.rnd() * len(seq))]

    def hausnummer(self):
        n = str(1 + int(self.rnd() ** 1.8 * 180))
        r = self.rnd()
        if r < 0.10:
            n += "abc"[int(self.rnd() * 3)]
        elif r < 0.12:
            n += "-" + str(int(n) + 2)
        return n

    def telefon(self, stadt, beginn):
        r = self.rnd()
        if r < 0.25 or beginn.year < 1985:
            return ""
        nummer = str(self.rng.randrange(2000000, 99999999))
        if beginn.year >= 2005 and r < 0.45:
            return "01%d%d %s" % (self.choice([5, 6, 7]), self.rng.randrange(0, 10),
                                  str(self.rng.randrange(1000000, 9999999)))
        if beginn.year < 2000:
            return "%s/%s" % (stadt["vorwahl"], nummer[:7])
        return "%s %s" % (stadt["vorwahl"], nummer)

    def beginn_datum(self):
        # Skewed towards recent years: more businesses alive now were founded lately.
        span = self.last_ord - self.first_ord
        return datetime.date.fromordinal(self.first_ord + int(span * self.rnd() ** 0.55))

    def rechtsform(self, beginn):
        while True:
            r = self.rnd() * RF_TOTAL
            acc = 0
            for code, _name, weight, von, bis in RECHTSFORMEN:
                acc += weight
                if r < acc:
                    break
            if (von is None or beginn >= von) and (bis is None or beginn <= bis):
                return code

    def person_name(self, weiblich):
        h = self.herkunft[self.herkunft_w.pick(self.rnd)]
        vor = self.choice(h[3] if weiblich else h[2])
        if h is self.deutsch and self.rnd() < 0.08:  # second given name
            vor = vor + " " + self.choice(h[3] if weiblich else h[2])
        return h, self.choice(h[1]), vor

    # -- entities -----------------------------------------------------------------------------
    def betrieb(self):
        rnd = self.rnd
        beginn = self.beginn_datum()
        while True:
            stadt = self.staedte[self.stadt_w.pick(rnd)]
            # In the GDR there was no Gewerbeanzeige: east of the wall the register begins with
            # the Gewerbegesetz of 6 March 1990 (East Berlin is left to the imagination).
            if beginn >= GEWERBEGESETZ_DDR or stadt["name"] not in ("Leipzig", "Dresden"):
                break
        while True:
            wz = WZ[self.wz_w.pick(rnd)]
            if beginn.year >= wz[7]:
                break
        rf = self.rechtsform(beginn)
        if rf == 12:  # a Verein runs a bar or a gym, not a haulage firm
            wz = WZ[[w[0] for w in WZ].index(self.choice(["56.30", "93.13"]))]
        wort = self.choice(wz[5])

        alter = (STICHTAG - beginn).days / 365.25
        ende = None
        # Half of all businesses close within about twelve years.
        if rnd() < min(0.93, 1.0 - 0.5 ** (alter / 12.0)):
            # Closed some time after it began (at least four weeks, before the Stichtag).
            lo = beginn.toordinal() + 28
            hi = STICHTAG.toordinal() - 1
            if hi > lo:
                ende = datetime.date.fromordinal(lo + int((hi - lo) * rnd() ** 0.8))

        # Personen (owner, partners, directors) first: a sole trader's business bears the name.
        rolle, pmin, pmax = RF_ROLLEN[rf]
        anzahl = pmin if pmin == pmax else self.rng.randint(pmin, pmax)
        personen = []
        for _ in range(anzahl):
            weiblich = rnd() < (0.33 if beginn.year < 2000 else 0.42)
            h, fam, vor = self.person_name(weiblich)
            personen.append((h, fam, vor, weiblich))
        fam0, vor0 = personen[0][1], personen[0][2]

        if rf in (1, 2):
            r = rnd() * (0.65 if rf == 2 else 1.0)
            if r < 0.40:
                name = "%s %s" % (wort, fam0)
            elif r < 0.65:
                name = "%s %s %s" % (wort, vor0.split()[0], fam0)
            elif r < 0.85:
                name = "%s %s" % (vor0, fam0)
            else:
                name = "%s-%s, Inh. %s %s" % (self.choice(FANTASIE + [stadt["fluss"]]), wort,
                                               vor0.split()[0], fam0)
        elif rf in (3, 4) and len(personen) >= 2:
            if rnd() < 0.5:
                name = "%s & %s" % (fam0, personen[1][1])
            else:
                name = "%s %s und %s" % (wort, fam0, personen[1][1])
            if rf == 4 and rnd() < 0.3:
                name = "Gebr. %s" % fam0
        elif rf == 12:
            name = "%s %s %d" % (self.choice(["Turn- und Sportverein", "Sportfreunde",
                                              "Kulturverein", "Fitnessverein"]),
                                 self.choice(FANTASIE), self.rng.randrange(1890, 1990))
        else:
            r = rnd()
            if r < 0.35:
                name = "%s %s" % (fam0, wort)
            elif r < 0.7:
                name = "%s-%s" % (self.choice(FANTASIE + [stadt["fluss"]] * 3), wort)
            else:
                name = "%s %s" % (wort, self.choice([stadt["fluss"], stadt["name"]]))
        name = name + RF_SUFFIX[rf]

        gericht = hr_nr = ""
        if rf in RF_REGISTER:
            # A Ltd. is entered with its German branch (Zweigniederlassung) in HRB.
            gericht = stadt["gericht"]
            hr_nr = "%s %d" % (RF_REGISTER[rf], self.rng.randrange(1000, 230000 if rf in (7, 11) else 99999))
            if stadt["name"] == "Berlin" and RF_REGISTER[rf] in ("HRA", "HRB"):
                hr_nr += " B"  # Charlottenburg's register numbers carry the suffix B

        kapital = waehrung = ""
        dm = beginn < EURO_DAY
        if rf == 7:
            kapital = amount(self.choice([50000, 50000, 100000, 250000, 500000]) if dm else
                             self.choice([25000, 25000, 25000, 25000, 50000, 100000]))
            waehrung = "DEM" if dm else "EUR"
        elif rf == 8:
            kapital, waehrung = amount(self.choice([1, 100, 500, 1000, 1000, 2500, 5000])), "EUR"
        elif rf == 9:
            kapital = amount(self.choice([100000, 1000000]) if dm else
                             self.choice([50000, 120000, 1000000, 5000000]))
            waehrung = "DEM" if dm else "EUR"
        elif rf == 11:
            kapital, waehrung = amount(self.choice([1, 1, 100, 1000])), "GBP"

        if rf in (1, 2, 3, 12):
            besch = int(rnd() ** 3 * 8)
        else:
            besch = int(rnd() ** 2.5 * 60)

        strasse = self.choice(stadt["streets"])
        hnr = self.hausnummer()
        plz = self.choice(stadt["plz"])

        # Migrated records (before go-live): some have no known begin, or blanks for "no end".
        migriert = beginn < GO_LIVE
        beg_raw = ymd(beginn)
        if migriert and rnd() < 0.004:
            beg_raw = "00000000"
        if ende is not None:
            end_raw = ymd(ende)
        else:
            end_raw = "        " if (migriert and rnd() < 0.05) else "00000000"

        return {
            "beginn": beginn, "ende": ende, "stadt": stadt, "wz": wz, "rf": rf, "rolle": rolle,
            "personen": personen, "strasse": strasse, "hnr": hnr, "plz": plz,
            "row": [
                None,                       # BETR_NR: numbered after sorting by beginn
                pad(name, 60), rf, pad(gericht, 30), pad(hr_nr, 12),
                pad(strasse, 40), pad(hnr, 6), plz, pad(stadt["name"], 40),
                pad(self.telefon(stadt, beginn), 20), wz[2], wz[0], pad(self.choice(wz[6]), 80),
                besch, lpad(kapital, 15), pad(waehrung, 3), beg_raw, end_raw,
                "E" if ende is not None else "A",
            ],
        }

    def personen_rows(self, b, betr_nr):
        rnd = self.rnd
        rows = []
        beginn = b["beginn"]
        stadt = b["stadt"]
        migriert = beginn < GO_LIVE
        for i, (h, fam, vor, weiblich) in enumerate(b["personen"]):
            rolle = b["rolle"]
            if rolle == "S" and b["rf"] == 5 and i == 0:
                rolle = "G"  # the KG's general partner manages it
            # Age at the start of the business: 18..72, mostly 25..50, but nobody older than
            # 88 at the end of the business (or today, if it is still active).
            jahre = ((b["ende"] or STICHTAG) - beginn).days / 365.25
            hoechst = max(18.0, min(72.0, 87.0 - jahre))
            alter_tage = int((18 + (hoechst - 18) * rnd() ** 1.6) * 365.25)
            geb = datetime.date.fromordinal(beginn.toordinal() - alter_tage - int(rnd() * 365))
            geb_raw = dmy(geb)
            if migriert:
                r = rnd()
                if r < 0.006:
                    geb_raw = "          "
                elif r < 0.012:
                    geb_raw = "00.00.0000"
            if h is self.deutsch or rnd() < 0.4:
                geb_ort = self.choice(GEBURTSORTE_DE)
                nat = h[0] if (h is self.deutsch or rnd() < 0.45) else "deutsch"
            else:
                geb_ort = self.choice(h[4])
                nat = h[0] if rnd() < 0.7 else "deutsch"
            geb_name = ""
            if weiblich and rnd() < 0.45:
                geb_name = self.choice(h[1])
            elif not weiblich and rnd() < 0.04:
                geb_name = self.choice(h[1])
            if geb_name == fam:
                geb_name = ""
            if migriert and rnd() < 0.03:
                geschl = " "
            elif beginn.year >= 2019 and rnd() < 0.002:
                geschl = "D"
            else:
                geschl = "W" if weiblich else "M"
            # Where the person lives: often at the business (a sole trader working from home),
            # mostly in the city, some in the surrounding places.
            r = rnd()
            if i == 0 and b["rf"] == 1 and r < 0.2:
                w_str, w_hnr, w_plz, w_ort = b["strasse"], b["hnr"], b["plz"], stadt["name"]
            elif r < 0.8:
                w_str, w_hnr = self.choice(stadt["streets"]), self.hausnummer()
                w_plz, w_ort = self.choice(stadt["plz"]), stadt["name"]
            else:
                w_str, w_hnr = self.choice(GENERIC_STREETS), self.hausnummer()
                w_plz, w_ort = self.choice(stadt["umland"])
            rows.append([
                None, betr_nr, rolle, pad(fam, 40), pad(vor, 40), pad(geb_name, 40), geschl,
                geb_raw, pad(geb_ort, 40), pad(nat, 20), pad(w_str, 40), pad(w_hnr, 6), w_plz,
                pad(w_ort, 40),
            ])
        return rows

    def anzeige(self, betr_nr, art, wirk, b, stadt_idx):
        """One GEW_ANMELDUNG row (without ANM_NR) plus its sort key (capture time)."""
        rnd = self.rnd
        # Received around the effective date, sometimes late; never after the Stichtag.
        if rnd() < 0.06:
            verzug = 30 + int(rnd() * 400)
        else:
            verzug = int(rnd() * 44) - 14
        stichtag = STICHTAG.toordinal()
        eingang = wirk.toordinal() + verzug
        if eingang > stichtag:  # not yet late: received some day up to the Stichtag
            eingang = wirk.toordinal() + int(rnd() * (stichtag - wirk.toordinal() + 1))
        erfasst = eingang + int(rnd() ** 2 * 8)
        if erfasst > stichtag:
            erfasst = eingang
        eingang = datetime.date.fromordinal(eingang)
        erfasst = datetime.date.fromordinal(erfasst)
        sekunde = 27000 + int(rnd() * 30600)  # 07:30 .. 16:00
        kind = "A" if art < "10" else ("U" if art < "20" else "E")
        bemerk = ""
        if erfasst < GO_LIVE:
            # Migrated from the card index in December 1992 by a batch job.
            erfasst = datetime.date(1992, 12, 14 + int(rnd() * 5))
            sekunde = 72000 + int(rnd() * 14000)
            sb = "MIGR"
            r = rnd()
            anz_raw = "          " if r < 0.55 else ("00.00.0000" if r < 0.65 else dmy(eingang))
            if rnd() < 0.2:
                bemerk = "Übernahme aus Karteikarte"
        else:
            dekade = min(2020, max(1990, erfasst.year // 10 * 10))
            sb = self.choice(SACHBEARBEITER[dekade])
            anz_raw = dmy(eingang)
        ts = "%s%02d%02d%02d" % (ymd(erfasst), sekunde // 3600, sekunde // 60 % 60, sekunde % 60)

        era = "alt" if eingang < EURO_DAY else ("euro" if eingang.year < 2013 else "neu")
        stufen = GEBUEHREN[era][kind]
        gebuehr = stufen[(stadt_idx + (int(rnd() * 4) == 0)) % len(stufen)]
        if gebuehr == "0,00":
            zahl = "F"
        elif (STICHTAG - eingang).days < 60 and rnd() < 0.5:
            zahl = "O"
        elif eingang.year >= 2015 and rnd() < 0.01:
            zahl = "O"  # never paid (older claims have been written off)
        else:
            zahl = "B"

        if not bemerk and rnd() < 0.22:
            wz = b["wz"]
            opts = ["Gebühr per Lastschrift", "Barzahlung an der Kasse",
                    "Datenübermittlung an Finanzamt und %s erfolgt"
                    % ("HWK" if wz[2] == "H" else "IHK")]
            if verzug >= 30:
                opts.append("Anzeige verspätet eingegangen")
            if kind == "A":
                if wz[0] == "68.31":
                    opts.append("Erlaubnis nach § 34c GewO liegt vor")
                elif wz[0] == "66.22":
                    opts.append("Erlaubnis nach § 34d GewO liegt vor")
                elif wz[0] == "80.10":
                    opts.append("Erlaubnis nach § 34a GewO liegt vor")
                elif wz[0] in ("56.10", "56.30"):
                    opts.append("Gaststättenerlaubnis beantragt")
                elif wz[2] == "H":
                    opts.append("Eintragung in die Handwerksrolle nachgewiesen")
                if b["personen"][0][0][0] not in ("deutsch", "polnisch", "italienisch",
                                                  "griechisch", "rumänisch", "kroatisch",
                                                  "österreichisch"):
                    opts.append("Aufenthaltstitel geprüft")
            if art == "21" and rnd() < 0.2:
                opts = ["Abmeldung von Amts wegen (§ 14 Abs. 1 Satz 4 GewO)"]
            bemerk = self.choice(opts)

        row = [None, betr_nr, art, anz_raw, ymd(wirk), lpad(gebuehr, 9), zahl, pad(sb, 8),
               pad(bemerk, 60), ts]
        return ts, row

    def anzeigen_rows(self, b, betr_nr, stadt_idx):
        rnd = self.rnd
        beginn, ende = b["beginn"], b["ende"]
        out = []
        r = rnd()
        if r < 0.72:
            art = "01"
        elif r < 0.86:
            art = "02"
        elif r < 0.95:
            art = "05"
        elif r < 0.98:
            art = "03"
        else:
            art = "04" if b["rf"] in (3, 4, 5, 6) else "01"
        out.append(self.anzeige(betr_nr, art, beginn, b, stadt_idx))
        bis = (ende or STICHTAG).toordinal()
        r = rnd()
        n_um = 0 if r < 0.72 else (1 if r < 0.93 else 2)
        for _ in range(n_um):
            if bis - beginn.toordinal() < 60:
                break
            wirk = datetime.date.fromordinal(beginn.toordinal() + 30 +
                                             int(rnd() * (bis - beginn.toordinal() - 30)))
            out.append(self.anzeige(betr_nr, "11" if rnd() < 0.55 else "12", wirk, b, stadt_idx))
        if ende is not None:
            r = rnd()
            art = "21" if r < 0.70 else ("22" if r < 0.82 else ("23" if r < 0.95 else "24"))
            out.append(self.anzeige(betr_nr, art, ende, b, stadt_idx))
        if b["row"][16] == "00000000":
            # Migrated without a known begin: the Anzeige has no effective date either.
            ts, row = out[0]
            row[4] = "00000000"
        return out


def read_schema(path):
    """schema.sql as (CREATE TABLE statements, CREATE INDEX statements), in file order."""
    tables, indexes, current = [], [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            current += line
            if sqlite3.complete_statement(current):
                stmt = current.strip()
                body = "\n".join(l for l in stmt.splitlines() if not l.lstrip().startswith("--"))
                (indexes if body.lstrip().upper().startswith("CREATE INDEX") else tables).append(stmt)
                current = ""
    if current.strip() and not all(l.lstrip().startswith("--") or not l.strip()
                                   for l in current.splitlines()):
        raise SystemExit("%s: incomplete statement at the end" % path)
    return tables, indexes


def generate(path, betriebe, seed, quiet=False):
    t0 = time.time()
    gen = Generator(seed)
    stadt_index = {id(s): i for i, s in enumerate(gen.staedte)}

    raw = [gen.betrieb() for _ in range(betriebe)]
    # Betriebsnummern were handed out in the order businesses were registered.
    raw.sort(key=lambda b: b["beginn"])
    betrieb_rows, person_rows, anzeigen = [], [], []
    for i, b in enumerate(raw):
        nr = 100001 + i
        b["row"][0] = nr
        betrieb_rows.append(b["row"])
        person_rows.extend(gen.personen_rows(b, nr))
        anzeigen.extend(gen.anzeigen_rows(b, nr, stadt_index[id(b["stadt"])]))
    for i, row in enumerate(person_rows):
        row[0] = i + 1
    # Anzeigen are numbered in the order they were captured.
    anzeigen.sort(key=lambda a: (a[0], a[1][1]))
    anm_rows = []
    for i, (_ts, row) in enumerate(anzeigen):
        row[0] = i + 1
        anm_rows.append(row)
    wz_rows = [(w[0], pad(w[1], 80), w[3]) for w in WZ]

    tables, indexes = read_schema(os.path.join(HERE, "schema.sql"))
    out_dir = os.path.dirname(os.path.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    tmp = path + ".tmp"
    for p in (tmp, tmp + "-journal"):
        if os.path.exists(p):
            os.remove(p)
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN")
        for stmt in tables:
            con.execute(stmt)
        con.executemany("INSERT INTO GEW_WZ VALUES (?,?,?)", wz_rows)
        con.executemany("INSERT INTO GEW_BETRIEB VALUES (%s)" % ",".join("?" * 19), betrieb_rows)
        con.executemany("INSERT INTO GEW_PERSON VALUES (%s)" % ",".join("?" * 14), person_rows)
        con.executemany("INSERT INTO GEW_ANMELDUNG VALUES (%s)" % ",".join("?" * 10), anm_rows)
        for stmt in indexes:  # after the rows: building an index once is faster than growing it
            con.execute(stmt)
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()
    os.replace(tmp, path)
    if not quiet:
        print("%s: %d Betriebe, %d Personen, %d Anmeldungen, %d Wirtschaftszweige (seed %d, %.1f s)"
              % (path, len(betrieb_rows), len(person_rows), len(anm_rows), len(wz_rows), seed,
                 time.time() - t0))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Generate the example Gewerberegister (SQLite, legacy schema).")
    ap.add_argument("--betriebe", type=int, default=5000, metavar="N",
                    help="number of businesses (GEW_BETRIEB rows); default 5000")
    ap.add_argument("--seed", type=int, default=14, help="random seed; default 14 (§ 14 GewO)")
    ap.add_argument("--output", default=os.path.join(HERE, "data", "gewerbe.db"), metavar="PATH",
                    help="database file to (re)create; default data/gewerbe.db beside this script")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    if args.betriebe < 1:
        ap.error("--betriebe must be at least 1")
    generate(args.output, args.betriebe, args.seed, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
