// Deploys whatsapp-media-cleanup from the AWS Serverless Application Repository as a nested
// stack of yours (AWS::Serverless::Application), on a bucket you already have.
//
//   npm ci
//   npx cdk deploy -c applicationId=<the application's ARN> -c existingBucketName=<your bucket>
//
// `cdk deploy` acknowledges the capabilities itself (CAPABILITY_IAM, CAPABILITY_NAMED_IAM
// and CAPABILITY_AUTO_EXPAND, which the nested application needs). The stack has no assets,
// so it needs no `cdk bootstrap`. Parameters left out take the template's defaults, at
// every deploy: keep each one you set here.
const { App, BootstraplessSynthesizer, CfnOutput, Stack } = require("aws-cdk-lib");
const { CfnApplication } = require("aws-cdk-lib/aws-sam");

const app = new App();
const context = (name) => {
  const value = app.node.tryGetContext(name);
  if (!value) throw new Error(`set -c ${name}=... (or its value in cdk.json)`);
  return value;
};

const stack = new Stack(app, "WhatsAppMediaCleanup", {
  description: "whatsapp-media-cleanup from the AWS Serverless Application Repository",
  synthesizer: new BootstraplessSynthesizer(),
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
