from opto.optimizers.evolution.operators.llm_reply import (
    Parsed,
    Unparseable,
    extract_thought,
    parse_thought_and_code,
    rename_function,
    trim_to_parseable,
)


def test_fenced_code_and_braced_thought():
    reply = "{Prefer the bin that stays fullest after the item.}\n```python\ndef priority(item, bins):\n    d = {}\n    return -(bins - item)\n```\nThis works well."
    parsed = parse_thought_and_code(reply, "priority")
    assert isinstance(parsed, Parsed)
    assert parsed.thought == "Prefer the bin that stays fullest after the item."
    assert parsed.code.startswith("def priority(item, bins):") and "d = {}" in parsed.code


def test_unfenced_code_with_trailing_prose_is_trimmed():
    reply = "Here it is:\nimport numpy as np\ndef priority(item, bins):\n    return np.zeros_like(bins)\nThis returns zeros, which is first fit."
    parsed = parse_thought_and_code(reply, "priority")
    assert isinstance(parsed, Parsed)
    assert parsed.code.splitlines()[0] == "import numpy as np"
    assert "first fit" not in parsed.code
    assert parsed.thought.startswith("Here it is:")


def test_unclosed_fence_is_read():
    parsed = parse_thought_and_code("```python\ndef priority(item, bins):\n    return bins", "priority")
    assert isinstance(parsed, Parsed) and parsed.code.endswith("return bins")


def test_json_reply():
    parsed = parse_thought_and_code('{"thought": "use ratios", "code": "def priority(item, bins):\\n    return item / bins"}', "priority")
    assert parsed == Parsed("use ratios", "def priority(item, bins):\n    return item / bins")


def test_unparseable_replies_say_why():
    assert isinstance(parse_thought_and_code("", "f"), Unparseable)
    no_code = parse_thought_and_code("I would use a greedy rule.", "priority")
    assert isinstance(no_code, Unparseable) and "no Python code" in no_code.detail
    broken = parse_thought_and_code("```python\ndef priority(item, bins)\n    return 1\n```", "priority")
    assert isinstance(broken, Unparseable) and "does not parse" in broken.detail


def test_thought_fallback_and_helpers():
    assert extract_thought("Use the tightest bin. Then more.\n```python\nx=1\n```") == "Use the tightest bin."
    assert trim_to_parseable("def f():\n    return 1\nnot python at all") == "def f():\n    return 1"
    assert trim_to_parseable("no code") is None
    assert rename_function("def f(x):\n    return f(x - 1) + ff(x)", "f", "g") == "def g(x):\n    return g(x - 1) + ff(x)"
