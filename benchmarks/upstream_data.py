"""A faithful re-implementation of the upstream data preparation, as the benchmark's baseline.

The upstream notebooks prepared each model family separately: pandas frames, the MedQuAD pairs
flattened one XML document at a time, a Python loop over the rows building each prompt string,
pandas dedup, a seeded pandas sample for the short set, one parquet per dataset. Here that is
done on the same raw files as `meddata build`, with the prompts made correct (the upstream's
string defects are not reproduced: they would not change the cost).
"""

from __future__ import annotations

import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

INSTRUCTION = "Answer the question truthfully, you are a medical professional."
TEMPLATES = {
    "mistral": "<s> [INST] {system}\n\n{question} [/INST] {answer}</s>",
    "llama": "<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{question} [/INST] {answer} </s>",
    "llama3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n{question}<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n{answer}<|eot_id|>"
    ),
    "gemma": (
        "<bos><start_of_turn>user\n{system}\n\n{question}<end_of_turn>\n"
        "<start_of_turn>model\n{answer}<end_of_turn>\n"
    ),
}


def read_medquad(archive: Path) -> pd.DataFrame:
    records = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if not member.name.endswith(".xml"):
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            root = ET.fromstring(handle.read())
            for pair in root.iter():
                if pair.tag not in ("QAPair", "pair"):
                    continue
                question = next((c for c in pair if c.tag.lower() == "question"), None)
                answer = next((c for c in pair if c.tag.lower() == "answer"), None)
                records.append(
                    {
                        "input": "" if question is None else (question.text or ""),
                        "output": "" if answer is None else (answer.text or ""),
                        "source": root.get("source") or root.get("corpus"),
                    }
                )
    return pd.DataFrame(records)


def read_wikidoc(raw: Path) -> pd.DataFrame:
    folder = raw / "medical_meadow_wikidoc"
    textbook = pd.read_csv(folder / "medical_meadow_wikidoc_sample.csv")
    patient = pd.read_json(folder / "medical_meadow_wikidoc_patient_information.json")
    return pd.concat(
        [textbook[["input", "output"]], patient[["input", "output"]]], ignore_index=True
    )


def prepare(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    frame = frame.dropna(subset=["input", "output"])
    frame = frame[frame["output"].str.strip() != ""].drop_duplicates(subset=["input", "output"])
    rows = []
    for _, row in frame.iterrows():
        question, answer = row["input"].strip(), row["output"].strip()
        rows.append(
            {
                "instruction": INSTRUCTION,
                "input": question,
                "output": answer,
                "prompt": TEMPLATES[family].format(
                    system=INSTRUCTION, question=question, answer=answer
                ),
            }
        )
    return pd.DataFrame(rows)


def write(frame: pd.DataFrame, folder: Path) -> None:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    test = frame.sample(frac=0.1, random_state=42)
    frame.drop(test.index).to_parquet(folder / "data" / "train.parquet")
    test.to_parquet(folder / "data" / "test.parquet")


def family_pass(family: str, raw: Path, out: Path) -> None:
    """One upstream notebook: read everything, build the family's four datasets."""
    wikidoc = prepare(read_wikidoc(raw), family)
    medquad = prepare(read_medquad(raw / "medquad" / "MedQuAD.tar.xz"), family)
    short = pd.concat(
        [wikidoc.sample(n=1000, random_state=42), medquad.sample(n=1000, random_state=42)]
    )
    write(
        pd.concat([wikidoc, medquad], ignore_index=True), out / f"medical_{family}_instruct_dataset"
    )
    write(short, out / f"medical_{family}_instruct_dataset_short")
    write(medquad, out / f"{family}_medquad_instruct_dataset")
    write(wikidoc, out / f"{family}_medical_meadow_wikidoc_instruct_dataset")


def build_all(raw: Path, out: Path) -> None:
    for family in TEMPLATES:
        family_pass(family, raw, out)
