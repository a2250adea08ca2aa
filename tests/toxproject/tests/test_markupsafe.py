def test_escape():
    from markupsafe import escape

    assert str(escape("<b>")) == "&lt;b&gt;"


def test_soft_unicode_still_available():
    # MarkupSafe 2.1 removed soft_unicode: this is the "new release broke us" case.
    from markupsafe import soft_unicode

    assert soft_unicode("x") == "x"
