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


def test_charts_show_dollar_signs_literally():
    """Issue 16 item 8: a vendor named "Northwind $\\x$ BPO" crashed matplotlib's mathtext."""
    import matplotlib.text

    from feedbacklib.report.plots import FigureImage, sentiment_figure

    name = "Northwind $\\x$ BPO"
    shares = pd.DataFrame({"negative": [10.0], "neutral": [20.0], "positive": [70.0], "n": [50]}, index=[name])
    figure = sentiment_figure(shares, f"Sentiment for {name}")
    image = FigureImage(figure, alt=name)
    assert image.png.startswith(b"\x89PNG")
    texts = [t for t in figure.findobj(matplotlib.text.Text) if "$" in t.get_text()]
    assert texts and all(not t._parse_math for t in texts)


def test_report_html_outputs_are_not_typeset_by_mathjax():
    """Issue 16 item 9: customer text with $...$ in report.ipynb is not typeset in JupyterLab."""
    from feedbacklib.report.html import paragraphs
    from feedbacklib.safety import NO_MATH_CLASSES, no_math

    out = paragraphs(["charged $5 then $10 <b>"])._repr_html_()
    assert out.startswith(f'<div class="{NO_MATH_CLASSES}">') and "mathjax_ignore" in out
    assert "$5 then $10 &lt;b&gt;" in out
    assert no_math("x") == f'<div class="{NO_MATH_CLASSES}">x</div>'
