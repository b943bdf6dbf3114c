"""Generate the small datasets the examples ship with (run it to regenerate; the output is committed).

    python examples/data/make_datasets.py

sentiment.json: short product reviews labelled "positive"/"negative", built from templates with
random.Random(2024), split 16 train / 12 val / 12 test. capitals.json: "What is the capital of X?"
questions over a fixed list of countries, shuffled with the same seed and split 8 / 6 / 6.
Both have the shape {"train": {"inputs": [...], "infos": [...]}, "val": ..., "test": ...}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
SEED = 2024

POSITIVE = ["great", "excellent", "wonderful", "reliable", "fantastic", "sturdy", "delightful", "superb"]
NEGATIVE = ["terrible", "awful", "broken", "flimsy", "disappointing", "useless", "poor", "horrible"]
THINGS = ["blender", "headphones", "backpack", "kettle", "phone case", "desk lamp", "keyboard", "umbrella",
          "water bottle", "toaster"]
TEMPLATES = [
    "The {thing} is {adj}.",
    "I bought this {thing} last week and it is {adj}.",
    "Honestly, a {adj} {thing}.",
    "My new {thing} turned out {adj}, {tail}.",
    "What a {adj} {thing}: {tail}.",
]
TAILS = {"positive": ["I would buy it again", "it works every day", "my family loves it"],
         "negative": ["I returned it", "it stopped working", "never again"]}

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid"),
            ("Germany", "Berlin"), ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Russia", "Moscow"),
            ("China", "Beijing"), ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Kenya", "Nairobi"),
            ("Peru", "Lima"), ("Norway", "Oslo"), ("Austria", "Vienna"), ("Ireland", "Dublin"),
            ("Poland", "Warsaw"), ("Thailand", "Bangkok"), ("Cuba", "Havana"), ("Sweden", "Stockholm")]


def split(pairs: list[tuple[str, str]], sizes: tuple[int, int, int]) -> dict[str, dict[str, list[str]]]:
    out, start = {}, 0
    for name, size in zip(("train", "val", "test"), sizes):
        part = pairs[start : start + size]
        out[name] = {"inputs": [x for x, _ in part], "infos": [y for _, y in part]}
        start += size
    return out


def sentiment(rng: random.Random) -> dict[str, dict[str, list[str]]]:
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    while len(pairs) < 40:
        label = "positive" if len(pairs) % 2 == 0 else "negative"
        adj = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
        text = rng.choice(TEMPLATES).format(thing=rng.choice(THINGS), adj=adj, tail=rng.choice(TAILS[label]))
        if text not in seen:
            seen.add(text)
            pairs.append((text, label))
    rng.shuffle(pairs)
    return split(pairs, (16, 12, 12))


def capitals(rng: random.Random) -> dict[str, dict[str, list[str]]]:
    pairs = [(f"What is the capital of {country}?", city) for country, city in CAPITALS]
    rng.shuffle(pairs)
    return split(pairs, (8, 6, 6))


def main() -> None:
    rng = random.Random(SEED)
    for name, data in (("sentiment", sentiment(rng)), ("capitals", capitals(rng))):
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}: " + ", ".join(f"{k} {len(v['inputs'])}" for k, v in data.items()))


if __name__ == "__main__":
    main()
