"""Renders template.yaml as CloudFormation would deploy it, for tests/template.rs.

Usage: render_template.py TEMPLATE [Name=value ...]
       render_template.py --source TEMPLATE   (the template as written, as JSON)

The SAM transform is samtranslator's own (from the SAM CLI package), with the given
parameter values over the template's defaults; a value the parameter's constraints refuse
fails the render, as CloudFormation refuses it. Then the conditions are evaluated as
CloudFormation would: resources and outputs whose condition is false are dropped, Fn::If
takes its branch, AWS::NoValue disappears, Fn::FindInMap is looked up, and Ref / Fn::Sub of
parameters and pseudo parameters are substituted (account 123456789012, us-east-1,
partition aws, stack whatsapp-media-cleanup), and Fn::Select and Fn::Split of them
evaluated. References to resources are left as they are. Prints the result as JSON.

Where each rule comes from is cited beside it. Two of CloudFormation's rules are not
modelled, as the template needs neither: `${!Literal}` in Fn::Sub stays as written, and a
resource that depends on one whose condition is false is not dropped with it.
"""

import json
import os
import re
import sys

from samcli.yamlhelper import yaml_parse

# Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "whatsapp-media-cleanup",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/whatsapp-media-cleanup/"
    "6c1f2e40-7d5b-11ef-9a1c-0a1b2c3d4e5f",
}
# AWS::NoValue removes the property it is returned for (the same page); that it also
# removes a list's element is observed, not documented.
NO_VALUE = object()


class NoManagedPolicies:
    """Inline policies only: nothing needs looking up in IAM."""

    def load(self):
        return {}


def check_parameter(name, spec, value):
    """Refuses a value as CloudFormation does before it creates anything: AllowedValues,
    AllowedPattern (the whole value: observed, the page does not say), and MinValue /
    MaxValue of a Number
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html)."""
    problem = None
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        problem = f"not one of {allowed}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        problem = f"does not match {pattern}"
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            problem = "not a number"
        else:
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problem = f"below MinValue {spec['MinValue']}"
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problem = f"above MaxValue {spec['MaxValue']}"
    if problem:
        sys.exit(f"parameter {name}={value!r} is refused: {problem}")


def main():
    if sys.argv[1] == "--source":
        with open(sys.argv[2], encoding="utf-8") as f:
            print(json.dumps(yaml_parse(f.read())))
        return
    path, overrides = sys.argv[1], dict(arg.split("=", 1) for arg in sys.argv[2:])
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    # CloudFormation refuses a value for a parameter the template does not declare
    # (observed: "Parameters: [...] do not exist in the template").
    unknown = set(overrides) - set(params)
    if unknown:
        sys.exit(f"unknown parameters: {sorted(unknown)}")
    params.update(overrides)
    for name, value in params.items():
        check_parameter(name, template["Parameters"][name], value)
    # Imported once the parameters passed: a refused value is told at once.
    from samtranslator.translator.transform import transform

    # As `sam package` leaves it: the code uploaded to S3.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/bootstrap.zip"
    # samtranslator asks boto3 for the Region; it makes no call.
    os.environ["AWS_DEFAULT_REGION"] = PSEUDO["AWS::Region"]
    cfn = transform(template, {**params, **PSEUDO}, NoManagedPolicies())
    values = {**params, **PSEUDO}

    conditions = {}

    def condition(name):
        if name not in conditions:
            conditions[name] = truth(cfn["Conditions"][name])
        return conditions[name]

    # Condition functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html
    def truth(expr):
        (fn, args), = expr.items()
        if fn == "Condition":
            return condition(args)
        if fn == "Fn::Equals":
            a, b = (resolve(x) for x in args)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not truth(args[0])
        if fn == "Fn::And":
            return all(truth(x) for x in args)
        if fn == "Fn::Or":
            return any(truth(x) for x in args)
        raise ValueError(f"not a condition: {expr}")

    # Fn::Sub: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html
    def sub(text, variables):
        def one(m):
            name = m.group(1)
            value = variables.get(name)
            # A resource's name is known only once deployed: kept as `${Resource}`.
            if isinstance(value, dict) and set(value) == {"Ref"}:
                return "${" + value["Ref"] + "}"
            if name in variables:
                return str(variables[name])
            if name in values:
                return str(values[name])
            return m.group(0)

        # `${!name}` is the literal `${name}`.
        return re.sub(r"\$\{([^}!]+)\}", one, text).replace("${!", "${")

    # Fn::If (the conditions page), Ref, Fn::FindInMap, Fn::Select, Fn::Split:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-ref.html
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-findinmap.html
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-select.html
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-split.html
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-join.html
    def resolve(node):
        if isinstance(node, list):
            return [x for x in (resolve(x) for x in node) if x is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, args), = node.items()
            if fn == "Fn::If":
                name, yes, no = args
                return resolve(yes if condition(name) else no)
            if fn == "Ref" and args == "AWS::NoValue":
                return NO_VALUE
            if fn == "Ref" and args in values:
                return values[args]
            if fn == "Fn::FindInMap":
                mapping, key, attribute = (resolve(x) for x in args)
                return cfn["Mappings"][mapping][str(key)][attribute]
            if fn == "Fn::Select":
                index, items = (resolve(x) for x in args)
                return items[int(index)]
            if fn == "Fn::Split":
                separator, text = (resolve(x) for x in args)
                return text.split(separator) if isinstance(text, str) else node
            if fn == "Fn::Join":
                separator, items = (resolve(x) for x in args)
                if isinstance(items, list) and all(isinstance(i, str) for i in items):
                    return separator.join(items)
                return node
            if fn == "Fn::Sub":
                if isinstance(args, str):
                    return sub(args, {})
                text, variables = args
                return sub(text, {k: resolve(v) for k, v in variables.items()})
        out = {}
        for key, value in node.items():
            value = resolve(value)
            if value is not NO_VALUE:
                out[key] = value
        return out

    # A resource or output whose condition is false is not created:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
    rendered = {}
    for section in ("Resources", "Outputs"):
        rendered[section] = {
            name: resolve({k: v for k, v in body.items() if k != "Condition"})
            for name, body in cfn.get(section, {}).items()
            if "Condition" not in body or condition(body["Condition"])
        }
    json.dump(rendered, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
