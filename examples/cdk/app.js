// Deploys whatsapp-media-cleanup from the AWS Serverless Application Repository as a nested
// stack of yours (AWS::Serverless::Application), on a bucket you already have.
//
//   npm ci
//   npx cdk deploy -c applicationId=<the application's ARN> -c existingBucketName=<your bucket>
//
// `cdk deploy` acknowledges CAPABILITY_IAM and CAPABILITY_AUTO_EXPAND (the nested
// application) itself. Every parameter is in the template; those left out keep its defaults.
const { App, CfnOutput, Stack } = require("aws-cdk-lib");
const { CfnApplication } = require("aws-cdk-lib/aws-sam");

const app = new App();
const context = (name) => {
  const value = app.node.tryGetContext(name);
  if (!value) throw new Error(`set -c ${name}=... (or its value in cdk.json)`);
  return value;
};

const stack = new Stack(app, "WhatsAppMediaCleanup", {
  description: "whatsapp-media-cleanup from the AWS Serverless Application Repository",
});

const cleanup = new CfnApplication(stack, "Cleanup", {
  location: {
    applicationId: context("applicationId"),
    semanticVersion: context("semanticVersion"),
  },
  parameters: {
    ExistingBucketName: context("existingBucketName"),
    // Start safe: nothing is deleted until you set it to "false" and deploy again.
    DryRun: "true",
    UseSqsBuffer: "true",
  },
});

// The nested stack's outputs, as Outputs.<name>.
new CfnOutput(stack, "FunctionName", {
  value: cleanup.getAtt("Outputs.FunctionName").toString(),
});
new CfnOutput(stack, "FailedEventsQueueUrl", {
  value: cleanup.getAtt("Outputs.FailedEventsQueueUrl").toString(),
});

app.synth();
