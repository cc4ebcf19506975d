// HTTPS with a CA bundle of our choosing: on Lambda (Amazon Linux 2023) libcurl's built-in CA
// path (Debian's /etc/ssl/certs/ca-certificates.crt) does not exist, so the package ships a
// bundle and the Lambda home hands it to every client (HttpClient::Options::ca_bundle, from
// SSL_CERT_FILE). A self-signed server is trusted with its certificate as the bundle and
// refused without it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "aws/http_client.hpp"
#include "test_support.hpp"

namespace thumbflow {

TEST(CaBundle, a_server_is_trusted_through_the_given_bundle_and_refused_without_it) {
  test::TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  auto made = test::run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.string(), "-out", cert.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;

  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  aws::HttpRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(port) + "/hello";
  aws::HttpClient::Options o;
  o.retry = {1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};

  {
    // The clients close their kept-alive connections when they go, so stop() need not wait them out.
    aws::HttpClient untrusting(o);
    auto refused = untrusting.send(req);
    EXPECT_FALSE(refused.ok()) << "a self-signed server must not be trusted by default";

    o.ca_bundle = cert.string();
    aws::HttpClient trusting(o);
    auto r = trusting.send(req);
    EXPECT_TRUE(r.ok()) << r.error().describe();  // not ASSERT: the server thread must be stopped
    if (r.ok()) {
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "hi");
    }
  }

  server.stop();
  t.join();
}

}  // namespace thumbflow
