"""Intent F1 per language from 5-fold cross-validation of the Rasa NLU pipeline (`rasa test nlu`).

Splits the NLU data by language, cross-validates each half with bot/config.yml, and prints the
weighted intent F1 of each. `--config` measures another pipeline, `--lang` one language.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import yaml

from knowledge.schema import LANGS
from knowledge.text import detect_lang

ROOT = Path(__file__).resolve().parents[1]


def split_by_language(folder: Path) -> Dict[str, Path]:
    """One NLU YAML per language, same intents, examples sorted by the language they are written in."""
    out: Dict[str, List[Dict[str, str]]] = {lang: [] for lang in LANGS}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" not in item:
                continue
            lines = [l[2:] for l in item["examples"].splitlines() if l.startswith("- ")]
            for lang in out:
                chosen = [l for l in lines if detect_lang(l) == lang]
                if chosen:
                    out[lang].append({"intent": item["intent"], "examples": "".join(f"- {l}\n" for l in chosen)})
    files = {}
    for lang, items in out.items():
        f = folder / f"nlu_{lang}.yml"
        f.write_text(yaml.safe_dump({"version": "3.1", "nlu": items}, allow_unicode=True, sort_keys=False))
        files[lang] = f
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", type=Path, default=ROOT / "bot" / "config.yml", help="pipeline to measure")
    parser.add_argument("--lang", choices=LANGS, action="append", help="only these languages")
    args = parser.parse_args()
    folds = args.folds
    with tempfile.TemporaryDirectory() as tmp:
        for lang, data in split_by_language(Path(tmp)).items():
            if args.lang and lang not in args.lang:
                continue
            out = Path(tmp) / f"results_{lang}"
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "rasa"),
                    "test",
                    "nlu",
                    "--nlu",
                    str(data),
                    "--config",
                    str(args.config),
                    "--cross-validation",
                    "--folds",
                    str(folds),
                    "--out",
                    str(out),
                ],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            report = json.loads((out / "intent_report.json").read_text())
            f1 = report["weighted avg"]["f1-score"]
            worst = sorted(
                (
                    (k, v["f1-score"])
                    for k, v in report.items()
                    if isinstance(v, dict) and "support" in v and k not in ("micro avg", "macro avg", "weighted avg")
                ),
                key=lambda kv: kv[1],
            )[:3]
            print(f"{lang}: intent F1 {f1:.3f} ({folds}-fold); weakest: {worst}")


if __name__ == "__main__":
    main()
