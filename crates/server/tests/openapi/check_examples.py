"""Checks every example in an OpenAPI 3.1 document against the schema it illustrates.

openapi-spec-validator checks the document's structure, not whether its examples are what the
schemas allow; this script does that with openapi-schema-validator (one of its dependencies).
Usage: python check_examples.py DOCUMENT.json; prints each mismatch and exits 1 if any.
"""

import json
import sys

from openapi_schema_validator import OAS31Validator


def examples(document):
    """Yields (where, example, schema) for each media type that has an example."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            where = f"{method.upper()} {path}"
            body = operation.get("requestBody", {})
            for media, content in body.get("content", {}).items():
                if "example" in content:
                    yield f"{where} request {media}", content["example"], content.get("schema", {})
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    if "example" in content:
                        yield f"{where} {status} {media}", content["example"], content.get("schema", {})


def main(path):
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    components = document.get("components", {})
    mismatches = 0
    checked = 0
    for where, example, schema in examples(document):
        checked += 1
        # References are to #/components/…: the schema is checked as a root that carries them.
        validator = OAS31Validator({**schema, "components": components})
        for error in validator.iter_errors(example):
            mismatches += 1
            print(f"{where}: {error.message} at {list(error.absolute_path)}")
    print(f"{checked} examples checked, {mismatches} mismatches")
    return 1 if mismatches or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
