"""Issue 14 items 3 and 4: one record per platform, quarantine kinds, typed platform settings."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import feedbacklib.io as io
from feedbacklib import schema as S
from feedbacklib.clean import REASON_KINDS, clean_responses, reason_labels
from feedbacklib.cli import _parser
from feedbacklib.config import PLATFORM_KEYS, ConfigError, PlatformSettings, default_config, load_config
from feedbacklib.errors import QuarantineKind
from feedbacklib.io import READERS, REGISTRY, detect_platform, read_export, stage_export
from feedbacklib.io._common import Rejects, find_column
from feedbacklib.io._mapped import Spec, mapped_platform
from feedbacklib.io.detect import PLATFORMS, SIGNATURES, closest_layout

from tests.test_clean import FILES, FIX


def test_every_platform_list_derives_from_the_records():
    names = tuple(p.name for p in REGISTRY)
    assert PLATFORMS == names and tuple(READERS) == names and tuple(SIGNATURES) == names
    assert all(READERS[n] is REGISTRY[n] for n in names)
    assert set(PLATFORM_KEYS) == {p.name for p in REGISTRY if p.settings}
    assert PLATFORM_KEYS["zendesk"].keys() == set(REGISTRY["zendesk"].settings)
    every = {f.name for f in dataclasses.fields(PlatformSettings)}
    assert all(set(p.settings) <= every for p in REGISTRY)  # a record's own keys are typed settings
    help_text = _parser()._subparsers._group_actions[0].choices["validate"].format_help()
    assert all(f"{p.name}: {p.how}" in help_text for p in REGISTRY)


def test_the_thin_survey_readers_share_one_reader():
    thin = [REGISTRY[n] for n in ("typeform", "alchemer", "delighted", "google_play", "appbot")]
    assert len({p.read for p in thin}) == 1
    assert {p.stage.func for p in thin} == {thin[0].stage.func}  # stage_mapped with each platform's Spec


# --------------------------------------------------------------------------- a toy platform

def _toy_reject(raw: pd.DataFrame, frame: pd.DataFrame) -> Rejects:
    col = find_column(list(raw.columns), "State")
    rejects = Rejects(raw.index)
    # a detail that reads like another kind: the count must follow the kind, not the words
    return rejects.mark(raw[col].str.strip() == "archived", QuarantineKind.EXCLUDED_STATUS,
                        "duplicate of an archived card") if col else rejects


TOY = mapped_platform(
    Spec(name="toyboard", columns={S.RESPONSE_ID: ("Card",), S.RECEIVED_AT: ("Posted (UTC)",), S.TEXT: ("Note",),
                                   S.CSAT: ("Stars",)},
         signature=("Card", "Posted (UTC)", "Note", "Stars", "State", "Board"), min_hits=5,
         required=("Card", "Board"), id_prefix="toy-", reject=_toy_reject),
    how="Card, Posted (UTC), Note, Stars, State, Board")


def test_a_new_platform_is_one_record_registered_once(tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_text("Card,Posted (UTC),Note,Stars,State,Board\n"
                    "1,2026-10-01 10:00,Quick and kind,5,open,Help\n"
                    "2,2026-10-02 11:00,Slow reply,9,open,Help\n"
                    "3,2026-10-03 12:00,Old card,4,archived,Help\n"
                    "4,not a date,Lost,3,open,Help\n")
    with pytest.raises(Exception, match="Could not detect"):
        detect_platform(path)  # unknown to the package's registry ...
    registry = REGISTRY.with_platform(TOY, before="generic")
    assert detect_platform(path, registry=registry)[0] == "toyboard"  # ... known to one that has it
    assert closest_layout(["Card", "Note", "Board"], registry)[0] == "toyboard"

    monkeypatch.setattr(io, "REGISTRY", registry)  # reading and staging look the registry up when called
    export = read_export(path)
    assert export.platform == "toyboard" and len(export.raw) == 4
    assert stage_export(export, None).frame[S.RESPONSE_ID].tolist() == ["toy-1", "toy-2", "toy-3", "toy-4"]
    result = clean_responses([export], default_config(timezone="UTC"))
    q = result.quarantine.set_index(S.SOURCE_ROW)
    assert q[S.QUARANTINE_KIND].to_dict() == {1: "csat out of range", 2: "excluded status", 3: "unparseable date"}
    assert q.loc[2, S.QUARANTINE_REASON] == "duplicate of an archived card"
    quality = result.quality.iloc[0]
    assert quality["rows_read"] == quality["rows_kept"] + quality["rows_quarantined"] == 4
    assert quality["excluded status"] == 1 and quality["duplicate"] == 0 and quality["rows_kept"] == 1


# --------------------------------------------------------------------------- quarantine kinds

def test_every_quarantined_row_has_a_kind_and_the_counts_come_from_it():
    exports = [read_export(FIX / name) for name in FILES]
    twice = dataclasses.replace(exports[0], path=FIX / "again.csv")  # every row again: duplicates
    result = clean_responses([*exports, twice], default_config(timezone="UTC"))
    q = result.quarantine
    assert tuple(q.columns[:5]) == S.QUARANTINE_COLUMNS and q[S.QUARANTINE_KIND].notna().all()
    assert set(q[S.QUARANTINE_KIND]) <= set(REASON_KINDS) == {k.value for k in QuarantineKind}
    counted = result.quality.set_index("file")[list(REASON_KINDS)]
    by_kind = q.groupby([S.SOURCE_FILE, S.QUARANTINE_KIND]).size()
    for (name, kind), n in by_kind.items():
        assert counted.loc[name, kind] == n
    assert (counted.sum(axis=1) == result.quality.set_index("file")["rows_quarantined"]).all()
    assert (q.loc[q[S.SOURCE_FILE] == "again.csv", S.QUARANTINE_KIND] != "").all()
    labels = reason_labels(q)
    status = q[S.QUARANTINE_KIND] == QuarantineKind.EXCLUDED_STATUS.value
    assert (labels[status] == q.loc[status, S.QUARANTINE_REASON]).all()  # "status Spam" keeps the status
    assert (labels[~status] == q.loc[~status, S.QUARANTINE_KIND]).all()


def test_a_reader_that_quarantines_without_a_kind_is_a_bug_caught_at_once(tmp_path, monkeypatch):
    from feedbacklib.errors import SchemaError
    from feedbacklib.io._common import REJECT

    def no_kind(export, config):
        staged = TOY.stage(export, config)
        frame = staged.frame.drop(columns=["_reject_kind"])
        return dataclasses.replace(staged, frame=frame.assign(**{REJECT: frame[REJECT]}))

    path = tmp_path / "export.csv"
    path.write_text("Card,Posted (UTC),Note,Stars,State,Board\n3,2026-10-03 12:00,Old,4,archived,Help\n")
    monkeypatch.setattr(io, "REGISTRY", REGISTRY.with_platform(dataclasses.replace(TOY, stage=no_kind)))
    with pytest.raises(SchemaError, match="without a QuarantineKind"):
        clean_responses([read_export(path)], default_config(timezone="UTC"))


# --------------------------------------------------------------------------- [platforms.*] checked at load

@pytest.mark.parametrize("table,line,expected", [
    ("platforms.zendesk", 'timezon = "UTC"', "did you mean 'timezone'"),
    ("platforms.surveymonkey", "csat_scal = [1, 10]", "did you mean 'csat_scale'"),
    ("platforms.typeform", 'score = "nps"', "unknown key 'score'"),  # delighted's own key
    ("platforms.zendesk", "good_csat = 7", "good_csat must be a whole score from 1 to 5"),
    ("platforms.delighted", 'score = 10', 'score must be "nps" or "csat"'),
    ("platforms.mailchimp", 'timezone = "UTC"', "[platforms.mailchimp] names no platform feedbacklib reads"),
    ("platforms.typefrom", 'timezone = "UTC"', "did you mean 'typeform'"),
])
def test_platform_tables_are_checked_when_loaded(tmp_path, table, line, expected):
    path = tmp_path / "feedback.toml"
    path.write_text(f'[project]\ninput = "data"\n[{table}]\n{line}\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_platform_settings_are_typed_and_defaults_declared_once(tmp_path):
    path = tmp_path / "feedback.toml"
    path.write_text('[platforms.zendesk]\ngood_csat = 4\nfirst_response_hours_field = "360001001"\n'
                    '[platforms.qualtrics]\nunfinished = "quarantine"\n[input]\nmax_xlsx_mb = 16\n')
    cfg = load_config(path)
    zendesk = cfg.platform("zendesk")
    assert isinstance(zendesk, PlatformSettings) and zendesk.good_csat == 4 and zendesk.bad_csat == 1
    assert zendesk.first_response_hours_field == 360001001  # text ids become numbers once, at load
    assert cfg.platform("qualtrics").unfinished == "quarantine" and cfg.platform("cfpb") == PlatformSettings()
    assert cfg.section("input") == {"max_xlsx_mb": 16}
    from feedbacklib.io._common import xlsx_limits

    assert xlsx_limits(cfg) == (16, 30_000_000) and xlsx_limits(None) == (512, 30_000_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        zendesk.good_csat = 5  # type: ignore[misc]
