// deploy/template.yaml through the CloudFormation linters: npm cfn-lint (pinned in
// tests/package.json, offline) always, and AWS's own cfn-lint (Python) when it is installed.
//
// npm cfn-lint 1.9.7 (the newest) validates against CloudFormation resource specification
// 2.29.0 (2019), which predates three things the template needs; exactly these findings are
// accepted, every other finding fails the test:
//   AWS::Lambda::EventInvokeConfig               (Nov 2019) the on-failure destination
//   AWS::Lambda::Function Architectures          (Sep 2021) the architecture parameter
//   AWS::Lambda::EventSourceMapping FunctionResponseTypes (Nov 2021) batchItemFailures
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "test_support.hpp"

namespace thumbflow {
namespace {

std::string strip_colours(const std::string& s) { return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*m"), ""); }

std::vector<std::string> messages(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Message: ", 0) == 0) out.push_back(line.substr(9));
  return out;
}

const std::set<std::string> kStaleSpecFindings = {
    "Resource ThumbnailFunctionInvokeConfig has an invalid Type of AWS::Lambda::EventInvokeConfig.",
    "Architectures is not a valid property of AWS::Lambda::Function",
    "FunctionResponseTypes is not a valid property of AWS::Lambda::EventSourceMapping",
};

}  // namespace

TEST(LambdaTemplate, passes_npm_cfn_lint_but_for_its_stale_resource_specification) {
  const auto lint = test::source_dir() / "tests/node_modules/.bin/cfn-lint";
  ASSERT_TRUE(std::filesystem::exists(lint)) << lint << " is missing: run scripts/install-deps (npm ci in tests/)";
  auto r = test::run_process({lint.string(), "validate", (test::source_dir() / "deploy/template.yaml").string(),
                              "--parameters", "Name=demo,CodeBucket=deploy-bucket,AlarmEmail=ops@example.com"});
  const std::string out = strip_colours(r.out + r.err);
  std::set<std::string> seen;
  for (const auto& m : messages(out)) {
    EXPECT_TRUE(kStaleSpecFindings.count(m)) << "cfn-lint: " << m << "\n" << out;
    seen.insert(m);
  }
  // When the linter learns these, the allowance above must go.
  EXPECT_EQ(seen, kStaleSpecFindings) << out;
  EXPECT_NE(out.find("0 warn"), std::string::npos) << out;
}

TEST(LambdaTemplate, passes_aws_cfn_lint_when_installed) {
  auto version = test::run_process({"/bin/sh", "-c", "command -v cfn-lint >/dev/null && cfn-lint --version"});
  if (version.exit_code != 0 || version.out.find("cfn-lint 1.") == std::string::npos)
    GTEST_SKIP() << "AWS cfn-lint (Python) is not installed; the npm linter above still ran";
  auto r = test::run_process({"/bin/sh", "-c", "cfn-lint \"$0\"", (test::source_dir() / "deploy/template.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(LambdaTemplate, declares_what_the_issue_lists) {
  const std::string t = test::read_bytes(test::source_dir() / "deploy/template.yaml");
  for (const char* needle :
       {"BucketName: !Sub image-processing-${Name}", "Value: uploads/", "Runtime: provided.al2023",
        "Architectures: [!Ref Architecture]", "ReservedConcurrentExecutions: !Ref ReservedConcurrency",
        "MemorySize: !Ref MemorySize", "BillingMode: PAY_PER_REQUEST", "IndexName: uploadDate-index",
        "AttributeName: claimTtl", "OnFailure:", "Protocol: email", "MetricName: Errors", "MetricName: ImagesFailed",
        "AWS::CloudWatch::Dashboard", "FunctionResponseTypes: [ReportBatchItemFailures]", "deadLetterTargetArn",
        "/uploads/*", "/thumbnails/*", "dynamodb:LeadingKeys", "THUMBFLOW_TABLE: !Ref ImageMetadataTable"})
    EXPECT_NE(t.find(needle), std::string::npos) << needle;
  // Least privilege: no wildcard actions, no whole-bucket object access.
  EXPECT_EQ(t.find("s3:*"), std::string::npos);
  EXPECT_EQ(t.find("dynamodb:*"), std::string::npos);
  EXPECT_EQ(t.find("${Name}/*"), std::string::npos);
}

}  // namespace thumbflow
