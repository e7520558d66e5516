"""The test suite's keys of customers' personal data (`crm.privacy.vault`): fixed, never a deployment's."""

import base64

TEST_PII_KEYS = "t1:" + base64.b64encode(bytes(range(32))).decode()
TEST_PII_HASH_KEY = base64.b64encode(bytes(range(32, 64))).decode()
