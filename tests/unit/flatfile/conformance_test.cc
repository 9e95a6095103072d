// Conformance with real mainframe and banking files (../shared/data/legacy): every record
// decoded and compared field by field with the expected records.
//
// The cobrix expected files are JSON lines with nested groups and arrays; they are flattened
// the way the connector names fields: the elementary name, and for every enclosing OCCURS an
// index suffix _1.._n (ACCOUNT_DETAIL[0].ACCOUNT_NUMBER -> ACCOUNT_NUMBER_1). A field absent
// from an expected record (Cobrix leaves out NULLs) must decode to NULL.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "fachadapter/values.h"
#include "framing.h"
#include "layout.h"
#include "record_codec.h"
#include "test_util.h"

namespace fachadapter::flatfile {
namespace {

using fachadapter::testing::ReadFile;
using fachadapter::testing::SharedDataDir;

void Flatten(const google::protobuf::Value& v, const std::string& key, const std::string& suffix,
             std::map<std::string, google::protobuf::Value>* out) {
  if (v.has_struct_value()) {
    for (const auto& [k, child] : v.struct_value().fields()) Flatten(child, k, suffix, out);
  } else if (v.has_list_value()) {
    int i = 1;
    for (const auto& e : v.list_value().values()) Flatten(e, key, suffix + "_" + std::to_string(i++), out);
  } else {
    (*out)[key + suffix] = v;
  }
}

std::map<std::string, google::protobuf::Value> ParseExpected(const std::string& line) {
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(line, &s);
  EXPECT_TRUE(st.ok()) << line;
  std::map<std::string, google::protobuf::Value> out;
  for (const auto& [k, v] : s.fields()) Flatten(v, k, "", &out);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// Compares every exposed field of `rec` with the expected record; returns the fields compared.
int CompareRecord(const RecordCodec& codec, std::string_view rec,
                  std::map<std::string, google::protobuf::Value> expected, size_t n) {
  int compared = 0;
  const RecordLayout& l = codec.layout();
  for (size_t i = 0; i < l.fields.size(); ++i) {
    const FieldDef& f = l.fields[i];
    if (f.filler) continue;
    v1::Value v;
    Status s = codec.Decode(rec, static_cast<int>(i), &v);
    EXPECT_TRUE(s.ok()) << "record " << n << " field " << f.name << ": " << s.message();
    auto e = expected.find(f.name);
    if (e == expected.end()) {
      EXPECT_TRUE(v.has_null_value()) << "record " << n << " field " << f.name
                                      << " is absent in the expected record but decodes to "
                                      << v.ShortDebugString();
      continue;
    }
    ++compared;
    if (e->second.has_string_value()) {
      EXPECT_EQ(v.string_value(), e->second.string_value()) << "record " << n << " field " << f.name;
    } else if (e->second.has_number_value()) {
      EXPECT_TRUE(v.has_int_value()) << "record " << n << " field " << f.name << ": " << v.ShortDebugString();
      EXPECT_EQ(static_cast<double>(v.int_value()), e->second.number_value())
          << "record " << n << " field " << f.name;
    } else {
      ADD_FAILURE() << "unexpected JSON type for " << f.name;
    }
    expected.erase(e);
  }
  expected.erase("File_Id");
  expected.erase("Record_Id");
  for (const auto& [k, v] : expected) ADD_FAILURE() << "record " << n << ": expected field " << k << " not in the layout";
  return compared;
}

TEST(Conformance, CobrixTest1FixedRecordsCompComp3RedefinesOdo) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto dir = SharedDataDir() / "legacy" / "cobrix-test1";
  auto layouts = ParseCopybook(ReadFile(dir / "test1_copybook.cob"));
  ASSERT_TRUE(layouts.ok()) << layouts.status().message();
  ASSERT_EQ(layouts->size(), 1u);
  const RecordLayout& l = (*layouts)[0];
  EXPECT_EQ(l.length, 2202u);
  std::string data = ReadFile(dir / "example.bin");
  auto expected = Lines(ReadFile(dir / "test1_expected.txt"));
  Framing fr;
  fr.kind = Framing::Kind::kFixed;
  fr.record_length = l.length;
  RecordReader reader(data, fr);
  RecordCodec codec(&l, Charset::ByName("ebcdic-common"), Trim::kBoth);
  RawRecord r;
  size_t n = 0;
  int fields = 0;
  while (reader.Next(&r) == RecordReader::Step::kRecord) {
    ASSERT_LT(n, expected.size());
    fields += CompareRecord(codec, r.bytes, ParseExpected(expected[n]), n);
    ++n;
  }
  EXPECT_EQ(n, expected.size());
  EXPECT_GT(fields, 100);
}

TEST(Conformance, CobrixTest11RdwSegments) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto dir = SharedDataDir() / "legacy" / "cobrix-test11";
  auto layouts = ParseCopybook(ReadFile(dir / "test11_copybook.cob"));
  ASSERT_TRUE(layouts.ok()) << layouts.status().message();
  const RecordLayout& l = (*layouts)[0];
  std::string data = ReadFile(dir / "COMP.DETAILS.MAY30.DATA.dat");
  auto expected = Lines(ReadFile(dir / "test11_expected.txt"));
  // A 5-byte record header: byte 0 is 1 for a valid record (0: skip), bytes 3-4 the data
  // length little-endian.
  Framing fr;
  fr.kind = Framing::Kind::kHeader;
  fr.header_size = 5;
  fr.length_offset = 3;
  fr.length_bytes = 2;
  fr.big_endian = false;
  fr.length_adjust = 0;
  fr.valid_offset = 0;
  fr.valid_value = 1;
  RecordReader reader(data, fr);
  RecordCodec codec(&l, Charset::ByName("ebcdic-common"), Trim::kBoth);
  RawRecord r;
  size_t n = 0, skipped = 0, total = 0;
  std::map<std::string, int> segments;
  while (true) {
    auto step = reader.Next(&r);
    if (step == RecordReader::Step::kEnd) break;
    ASSERT_NE(step, RecordReader::Step::kError) << reader.error();
    if (step == RecordReader::Step::kSkipped) {
      ++skipped;
      continue;
    }
    ++total;
    v1::Value seg;
    ASSERT_TRUE(codec.Decode(r.bytes, l.Find("SEGMENT_ID"), &seg).ok());
    segments[seg.string_value()]++;
    if (n < expected.size()) {
      auto exp = ParseExpected(expected[n]);
      EXPECT_EQ(exp["Record_Id"].number_value(), static_cast<double>(n));
      CompareRecord(codec, r.bytes, exp, n);
    }
    ++n;
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(skipped, 306u);
  EXPECT_EQ(segments.size(), 2u);  // C (company) and P (contact person)
  EXPECT_GE(n, expected.size());
}

TEST(Conformance, DtazvThreeRecordTypesNoLineBreaks) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  std::string data = ReadFile(SharedDataDir() / "legacy" / "king_dtaus-DTAZV" / "DTAUS0.TXT");
  auto layouts = ParseCopybook(ReadFile(std::string(FLATFILE_TEST_DATA) + "/dtazv.cpy"));
  ASSERT_TRUE(layouts.ok()) << layouts.status().message();
  ASSERT_EQ(layouts->size(), 3u);
  std::map<char, const RecordLayout*> by_type = {
      {'Q', &(*layouts)[0]}, {'T', &(*layouts)[1]}, {'Z', &(*layouts)[2]}};
  EXPECT_EQ(by_type['Q']->length, 256u);
  EXPECT_EQ(by_type['T']->length, 768u);
  EXPECT_EQ(by_type['Z']->length, 256u);
  Framing fr;
  fr.kind = Framing::Kind::kFixed;
  RecordReader reader(data, fr, [&](std::string_view rest) -> uint32_t {
    if (rest.size() < 5 || !by_type.count(rest[4])) return 0;
    return by_type[rest[4]]->length;
  });
  const Charset* cs = Charset::ByName("iso-8859-1");
  std::vector<std::map<std::string, std::string>> got;
  RawRecord r;
  RecordReader::Step step;
  while ((step = reader.Next(&r)) == RecordReader::Step::kRecord) {
    RecordCodec codec(by_type[r.bytes[4]], cs, Trim::kBoth);
    std::map<std::string, std::string> rec;
    for (size_t i = 0; i < codec.layout().fields.size(); ++i) {
      if (codec.layout().fields[i].filler) continue;
      v1::Value v;
      Status s = codec.Decode(r.bytes, static_cast<int>(i), &v);
      ASSERT_TRUE(s.ok()) << s.message();
      rec[codec.layout().fields[i].name] = ValueToString(v);
    }
    got.push_back(rec);
  }
  ASSERT_EQ(step, RecordReader::Step::kEnd) << reader.error();
  ASSERT_EQ(got.size(), 3u);
  // Q: the ordering party (king_dtaus' test account "Jan Kus, Meine Eine Strasse 2, Koeln").
  std::map<std::string, std::string> q = {
      {"Q_SATZLAENGE", "256"}, {"Q_SATZART", "Q"}, {"Q_BLZ", "37050299"},
      {"Q_KONTONR", "1326049634"}, {"Q_AUFTRAGGEBER_1", "JAN"}, {"Q_AUFTRAGGEBER_2", "KUS"},
      {"Q_AUFTRAGGEBER_3", "MEINE EINE STRASSE 2"}, {"Q_AUFTRAGGEBER_4", "51063 MEINE KOELN"},
      {"Q_ERSTELLDATUM", "110608"}, {"Q_LFD_NR", "1"}, {"Q_AUSFUEHRUNG", "110608"},
      {"Q_MELDUNG", "N"}, {"Q_BUNDESLAND", "0"}, {"Q_FIRMENNR", "00000000"}};
  EXPECT_EQ(got[0], q);
  // T: one payment of EUR 220.25 to an IBAN at bank MARKF1100.
  const auto& t = got[1];
  std::map<std::string, std::string> t_expected = {
      {"T_SATZLAENGE", "768"}, {"T_SATZART", "T"}, {"T_BLZ", "37050299"}, {"T_WAEHRUNG", "EUR"},
      {"T_KONTONR", "1326049634"}, {"T_AUSFUEHRUNG", "110608"}, {"T_ENTGELT_BLZ", "0"},
      {"T_ENTGELT_WAEHRUNG", ""}, {"T_ENTGELT_KONTONR", "0"}, {"T_BIC", "MARKF1100"},
      {"T_BANK_LAND", ""}, {"T_EMPF_LAND", "DE"}, {"T_EMPFAENGER_1", "FIDEL"},
      {"T_EMPFAENGER_2", "CASTRO"}, {"T_EMPFAENGER_3", "BUSH-AVENUE 55"},
      {"T_EMPFAENGER_4", "445555 KUBA"}, {"T_IBAN", "/GR1601101250000000012300695"},
      {"T_BETRAG_WAEHRUNG", "EUR"}, {"T_BETRAG", "220.250"}, {"T_WEISUNG_1", "0"},
      {"T_ENTGELTREGELUNG", "0"}, {"T_ZAHLUNGSART", "13"}, {"T_MELDESCHLUESSEL", "0"},
      {"T_MELDETEIL", "0"}};
  for (const auto& [k, v] : t_expected) EXPECT_EQ(t.at(k), v) << k;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(t.at("T_BANK_ADRESSE_" + std::to_string(i)), "");
    EXPECT_EQ(t.at("T_VERWENDUNG_" + std::to_string(i)), "");
  }
  EXPECT_EQ(t.size(), 40u);
  // Z: the totals (integer part of the amounts, number of T records).
  std::map<std::string, std::string> z = {{"Z_SATZLAENGE", "256"}, {"Z_SATZART", "Z"},
                                          {"Z_SUMME", "220"}, {"Z_ANZAHL", "1"}};
  EXPECT_EQ(got[2], z);
}

}  // namespace
}  // namespace fachadapter::flatfile
