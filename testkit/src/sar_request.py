"""Builds, offline, the requests that `sam publish` sends to the Serverless Application
Repository for a template, with the pinned SAM CLI's own code, for tests/release.rs.

Usage: sar_request.py TEMPLATE

The SAM CLI publishes through its vendored serverlessrepo module: it parses the template,
reads `Metadata: AWS::ServerlessRepo::Application` (get_app_metadata), strips that section,
dumps the rest as the TemplateBody, and sends CreateApplication (validated for author,
description and name), then CreateApplicationVersion (validated for semantic_version). This
runs the same functions, checks each request against botocore's model of the API (types
and required members, as boto3 would before sending), and prints them as JSON, each
TemplateBody replaced by its size in bytes. Nothing is sent.
"""

import json
import sys

from botocore.session import get_session
from botocore.validate import validate_parameters
from samcli.vendor.serverlessrepo.parser import get_app_metadata, parse_template, strip_app_metadata
from samcli.vendor.serverlessrepo.publish import (
    _create_application_request,
    _create_application_version_request,
)
from samcli.yamlhelper import yaml_dump

APPLICATION_ID = "arn:aws:serverlessrepo:us-east-1:123456789012:applications/whatsapp-media-cleanup"


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        template = parse_template(f.read())
    metadata = get_app_metadata(template)
    body = yaml_dump(strip_app_metadata(template))
    requests = {
        "CreateApplication": _create_application_request(metadata, body),
        "CreateApplicationVersion": _create_application_version_request(
            metadata, APPLICATION_ID, body
        ),
    }
    model = get_session().get_service_model("serverlessrepo")
    for operation, request in requests.items():
        validate_parameters(request, model.operation_model(operation).input_shape)
        request["TemplateBody"] = len(request["TemplateBody"].encode("utf-8"))
    print(json.dumps(requests))


if __name__ == "__main__":
    main()
