// Hostile XML: every attack is rejected with a clear reason, in bounded time and memory, and
// without touching the file system or the network.
#include "xml_security.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "test_util.h"

namespace fachadapter::xoev {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct Rejected {
  std::string reason;
  std::string message;
  std::vector<XmlDiagnostic> diags;
};

// The bound on work is structural, not a clock: each limit stops the parser at the first
// violation (xmlStopParser from the SAX callback), so a rejected document yields exactly one
// diagnostic, at the place of the violation; tests check where that is (the DOCTYPE's line,
// before the first entity declaration; the first element past the depth limit). Memory is
// bounded by ManyHostileDocumentsInBoundedMemory.
Rejected ExpectRejected(const std::string& doc, const XmlLimits& limits = {}) {
  Rejected r;
  auto res = ParseUntrusted(doc, limits, &r.diags);
  EXPECT_FALSE(res.ok()) << "accepted: " << doc.substr(0, 200);
  if (!res.ok()) {
    EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
    r.reason = res.status().reason();
    r.message = res.status().message();
  }
  return r;
}

// A loopback listener that records whether anybody connected to it.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }
  bool Connected() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c >= 0) {
      ::close(c);
      return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(XmlSecurityTest, ParsesAWellFormedDocumentWithLineNumbers) {
  std::vector<XmlDiagnostic> d;
  auto doc = ParseUntrusted("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a xmlns=\"urn:x\">\n"
                            "  <b>Grüße &amp; &#x41;</b>\n</a>\n",
                            {}, &d);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  xmlNode* root = xmlDocGetRootElement(doc->get());
  ASSERT_NE(root, nullptr);
  xmlNode* b = root->children->next;
  ASSERT_EQ(b->type, XML_ELEMENT_NODE);
  EXPECT_EQ(xmlGetLineNo(b), 3);
  xmlChar* text = xmlNodeGetContent(b);
  EXPECT_STREQ(reinterpret_cast<char*>(text), "Grüße & A");
  xmlFree(text);
}

TEST(XmlSecurityTest, RejectsXxeFile) {
  TempDir dir;
  WriteFile(dir / "secret.txt", "TOP-SECRET");
  std::string doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file://" +
                    (dir / "secret.txt").string() + "\">]>\n<r>&x;</r>";
  auto r = ExpectRejected(doc);
  EXPECT_EQ(r.reason, "XML_DOCTYPE_FORBIDDEN");
  EXPECT_NE(r.message.find("DOCTYPE"), std::string::npos);
  EXPECT_EQ(r.message.find("TOP-SECRET"), std::string::npos);
  for (const auto& d : r.diags) EXPECT_EQ(d.message.find("TOP-SECRET"), std::string::npos);
}

TEST(XmlSecurityTest, RejectsXxeUrlAndExternalDtdWithoutConnecting) {
  Listener l;
  std::string url = "http://127.0.0.1:" + std::to_string(l.port()) + "/x";
  ExpectRejected("<!DOCTYPE r [<!ENTITY x SYSTEM \"" + url + "\">]><r>&x;</r>");
  ExpectRejected("<!DOCTYPE r SYSTEM \"" + url + "\"><r/>");
  ExpectRejected("<!DOCTYPE r [<!ENTITY % p SYSTEM \"" + url + "\"> %p;]><r/>");
  ExpectRejected("<!DOCTYPE r PUBLIC \"-//X//Y\" \"" + url + "\"><r/>");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(l.Connected()) << "the parser opened a network connection";
}

TEST(XmlSecurityTest, RejectsBillionLaughs) {
  std::string doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  doc += " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    std::string prev = "&lol" + std::to_string(i - 1) + ";";
    doc += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) doc += prev;
    doc += "\">\n";
  }
  doc += "]>\n<lolz>&lol9;</lolz>";
  auto r = ExpectRejected(doc);
  EXPECT_EQ(r.reason, "XML_DOCTYPE_FORBIDDEN");
  // Stopped at the DOCTYPE (line 2), before the first entity declaration (line 3): nothing was
  // declared, so nothing can have been expanded.
  ASSERT_EQ(r.diags.size(), 1u) << FormatDiagnostics(r.diags);
  EXPECT_EQ(r.diags[0].line, 2);
}

TEST(XmlSecurityTest, RejectsQuadraticBlowup) {
  std::string big(100000, 'a');
  std::string doc = "<!DOCTYPE r [<!ENTITY a \"" + big + "\">]><r>";
  for (int i = 0; i < 10000; ++i) doc += "&a;";
  doc += "</r>";
  auto r = ExpectRejected(doc);
  EXPECT_EQ(r.reason, "XML_DOCTYPE_FORBIDDEN");
  ASSERT_EQ(r.diags.size(), 1u) << FormatDiagnostics(r.diags);
  EXPECT_EQ(r.diags[0].message.rfind("document has a DOCTYPE declaration", 0), 0u)
      << "not stopped at the DOCTYPE: " << r.diags[0].message;
  EXPECT_EQ(r.diags[0].message.find("entity declaration 'a'"), std::string::npos)
      << "the parser reached the entity declaration: " << r.diags[0].message;
}

TEST(XmlSecurityTest, RejectsAnyDoctypeEvenHarmless) {
  auto r = ExpectRejected("<?xml version=\"1.0\"?><!DOCTYPE r><r/>");
  EXPECT_EQ(r.reason, "XML_DOCTYPE_FORBIDDEN");
  EXPECT_NE(r.message.find("<!DOCTYPE r"), std::string::npos);
}

TEST(XmlSecurityTest, RejectsUndeclaredEntity) {
  auto r = ExpectRejected("<r>&undefined;</r>");
  EXPECT_EQ(r.reason, "XML_MALFORMED");
  EXPECT_NE(r.message.find("undefined"), std::string::npos) << r.message;
}

std::string Nested(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "<e>";
  for (int i = 0; i < depth; ++i) s += "</e>";
  return s;
}

TEST(XmlSecurityTest, DepthLimit) {
  EXPECT_TRUE(ParseUntrusted(Nested(256), {}).ok());
  auto r = ExpectRejected(Nested(257));
  EXPECT_EQ(r.reason, "XML_TOO_DEEP");
  EXPECT_NE(r.message.find("256"), std::string::npos);
  // Far past the limit: the parser stops at the first element past it, element 257, not at the
  // end of the 100,000 levels.
  r = ExpectRejected(Nested(100000));
  EXPECT_EQ(r.reason, "XML_TOO_DEEP");
  ASSERT_EQ(r.diags.size(), 1u) << FormatDiagnostics(r.diags);
  EXPECT_EQ(std::count(r.diags[0].path.begin(), r.diags[0].path.end(), '/'), 257);
  XmlLimits small;
  small.max_depth = 10;
  EXPECT_TRUE(ParseUntrusted(Nested(10), small).ok());
  r = ExpectRejected(Nested(11), small);
  EXPECT_EQ(r.reason, "XML_TOO_DEEP");
  ASSERT_FALSE(r.diags.empty());
  EXPECT_EQ(r.diags[0].path, "/e/e/e/e/e/e/e/e/e/e/e");
}

TEST(XmlSecurityTest, HugeAttributeAndText) {
  XmlLimits limits;
  limits.max_attribute_bytes = 1000;
  limits.max_text_bytes = 5000;
  EXPECT_TRUE(ParseUntrusted("<r a=\"" + std::string(1000, 'x') + "\"/>", limits).ok());
  auto r = ExpectRejected("<r><s a=\"" + std::string(1001, 'x') + "\"/></r>", limits);
  EXPECT_EQ(r.reason, "XML_ATTRIBUTE_TOO_LARGE");
  EXPECT_NE(r.message.find("'a'"), std::string::npos);
  r = ExpectRejected("<r>" + std::string(5001, 'x') + "</r>", limits);
  EXPECT_EQ(r.reason, "XML_TEXT_TOO_LARGE");
  // Defaults: 1 MiB attribute, 8 MiB text.
  r = ExpectRejected("<r a=\"" + std::string((1u << 20) + 1, 'x') + "\"/>");
  EXPECT_EQ(r.reason, "XML_ATTRIBUTE_TOO_LARGE");
  r = ExpectRejected("<r>" + std::string((8u << 20) + 1, 'x') + "</r>");
  EXPECT_EQ(r.reason, "XML_TEXT_TOO_LARGE");
}

TEST(XmlSecurityTest, DocumentSizeLimit) {
  XmlLimits limits;
  limits.max_document_bytes = 100;
  auto r = ExpectRejected("<r>" + std::string(200, 'x') + "</r>", limits);
  EXPECT_EQ(r.reason, "XML_TOO_LARGE");
  EXPECT_NE(r.message.find("limit of 100 bytes"), std::string::npos);
}

TEST(XmlSecurityTest, RejectsInvalidUtf8) {
  for (std::string bad : {std::string("\xFF"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                          std::string("\xE2\x82"), std::string("\xF4\x90\x80\x80")}) {
    auto r = ExpectRejected("<r>\n<s>ok</s>\n<s>" + bad + "</s></r>");
    EXPECT_EQ(r.reason, "XML_NOT_UTF8");
    ASSERT_FALSE(r.diags.empty());
    EXPECT_EQ(r.diags.back().line, 3);
  }
  // A Latin-1 document that declares its encoding is still not UTF-8.
  auto r = ExpectRejected("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>Gr\xFC\xDF""e</r>");
  EXPECT_EQ(r.reason, "XML_NOT_UTF8");
}

TEST(XmlSecurityTest, MalformedDocumentNamesLineAndPath) {
  std::vector<XmlDiagnostic> d;
  auto res = ParseUntrusted("<a>\n<b>\n<c></b>\n</a>", {}, &d);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().reason(), "XML_MALFORMED");
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].line, 3);
  EXPECT_EQ(d[0].path, "/a/b/c");
  EXPECT_NE(d[0].message.find("mismatch"), std::string::npos) << d[0].message;
}

TEST(XmlSecurityTest, XIncludeIsNotProcessed) {
  TempDir dir;
  WriteFile(dir / "inc.xml", "<secret>TOP-SECRET</secret>");
  auto res = ParseUntrusted("<r xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"" +
                            (dir / "inc.xml").string() + "\"/></r>", {});
  ASSERT_TRUE(res.ok());
  xmlChar* all = xmlNodeGetContent(xmlDocGetRootElement(res->get()));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(all)).find("TOP-SECRET"), std::string::npos);
  xmlFree(all);
}

TEST(XmlSecurityTest, ManyHostileDocumentsInBoundedMemory) {
  std::string bomb = "<!DOCTYPE r [<!ENTITY a \"" + std::string(10000, 'a') + "\">]><r>";
  for (int i = 0; i < 1000; ++i) bomb += "&a;";
  bomb += "</r>";
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(ParseUntrusted(bomb, {}).ok());
    EXPECT_FALSE(ParseUntrusted(Nested(300), {}).ok());
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  EXPECT_LT(ru.ru_maxrss, 512 * 1024) << "max RSS " << ru.ru_maxrss << " KiB";
}

TEST(XmlSecurityTest, LoaderOutsideAScopeIsThePreviousOne) {
  InitLibxml();
  EXPECT_TRUE(EntityLoaderInstalled());
  // With a deny-all scope, even a direct load attempt through libxml2 is refused.
  DenyAllLoader deny;
  {
    LoaderScope scope(&deny);
    xmlParserInputPtr in = xmlLoadExternalEntity("/etc/hostname", nullptr, nullptr);
    EXPECT_EQ(in, nullptr);
  }
  ASSERT_EQ(deny.refused().size(), 1u);
  EXPECT_EQ(deny.refused()[0], "/etc/hostname");
}

}  // namespace
}  // namespace fachadapter::xoev
