import pandas as pd

from feedbacklib.safety import escape, neutralise_formulas


def test_formula_cells_are_neutralised_and_input_untouched():
    frame = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "fine", None],
                          "n": [1, 2, 3, 4, 5, 6, 7]})
    before = frame.copy()
    out = neutralise_formulas(frame)
    assert out["text"].tolist()[:6] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-cmd", "'@SUM(A1)", "'\tx", "fine"]
    assert pd.isna(out["text"].iloc[6])
    assert out["n"].tolist() == list(range(1, 8))  # numbers are data, not formulas
    pd.testing.assert_frame_equal(frame, before)


def test_formula_headers_are_neutralised():
    out = neutralise_formulas(pd.DataFrame({"=cmd|' /C calc'!A0": ["x"]}))
    assert list(out.columns) == ["'=cmd|' /C calc'!A0"]


def test_escape_handles_markup_and_missing():
    assert escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape('" onerror="x') == "&quot; onerror=&quot;x"
    assert escape(None) == "" and escape(pd.NA) == "" and escape(float("nan")) == ""
