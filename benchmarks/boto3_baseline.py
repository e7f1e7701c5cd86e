"""The boto3 baseline for `make bench`: the same deletions, written the way a user would
write them in a Python Lambda function: a loop over delete_whatsapp_message_media.

Prints one JSON line: {"count": N, "seconds": S, "throttled": T}.
Credentials and the endpoint come from the environment (AWS_ACCESS_KEY_ID, ...,
AWS_ENDPOINT_URL_SOCIALMESSAGING), as the benchmark sets them.
"""

import json
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError


def main() -> None:
    count = int(sys.argv[1])
    phone = sys.argv[2]
    prefix = sys.argv[3]
    client = boto3.client(
        "socialmessaging",
        region_name=os.environ["AWS_REGION"],
        endpoint_url=os.environ["AWS_ENDPOINT_URL_SOCIALMESSAGING"],
    )
    # One call first, so that client creation and the first connection are not timed, as
    # in a warm Lambda invocation.
    client.delete_whatsapp_message_media(mediaId=f"{prefix}warm", originationPhoneNumberId=phone)
    throttled = 0
    started = time.perf_counter()
    for i in range(count):
        try:
            client.delete_whatsapp_message_media(
                mediaId=f"{prefix}{i}", originationPhoneNumberId=phone
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ThrottledRequestException":
                throttled += 1
            else:
                raise
    seconds = time.perf_counter() - started
    print(json.dumps({"count": count, "seconds": seconds, "throttled": throttled}))


if __name__ == "__main__":
    main()
