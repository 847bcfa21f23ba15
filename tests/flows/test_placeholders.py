"""flows.placeholders: plain substitution, defaults, tidy spacing for missing values."""

from hypothesis import given
from hypothesis import strategies as st

from flows.placeholders import not_scalar, placeholders_in, render, unknown_scopes

GREETING = "Hi {{customer.name}}, your visit is {{dynamic.when}}."


def test_values_fill_their_placeholders():
    assert render(GREETING, customer={"name": "Sam"}, dynamic={"when": "tomorrow"}) == (
        "Hi Sam, your visit is tomorrow."
    )


def test_a_missing_value_renders_empty_with_the_spacing_tidied():
    assert render(GREETING, customer={}, dynamic={"when": "tomorrow"}) == (
        "Hi, your visit is tomorrow."
    )
    assert render("{{customer.name}} welcome!", customer={}, dynamic={}) == "welcome!"
    assert render("Dear {{customer.name}}\nThanks", customer={}, dynamic={}) == "Dear\nThanks"
    assert render("See you {{dynamic.when}} !", customer={}, dynamic={}) == "See you!"


def test_a_default_stands_in_for_a_missing_or_blank_value():
    template = "Hi {{customer.name|there}}!"
    assert render(template, customer={}, dynamic={}) == "Hi there!"
    assert render(template, customer={"name": "  "}, dynamic={}) == "Hi there!"
    assert render(template, customer={"name": "Sam"}, dynamic={}) == "Hi Sam!"


def test_numbers_and_booleans_are_written_as_json_would():
    template = "{{dynamic.n}} {{dynamic.x}} {{dynamic.ok}}"
    rendered = render(template, customer={}, dynamic={"n": 3.0, "x": 1.5, "ok": True})
    assert rendered == "3 1.5 true"


def test_the_flow_says_which_placeholders_it_uses():
    names = [p.name for p in placeholders_in(GREETING + " {{customer.name|you}}")]
    assert names == ["customer.name", "dynamic.when"]


def test_only_customer_and_dynamic_scopes_are_known():
    assert unknown_scopes("{{ settings.SECRET_KEY }} {{customer.name}}") == ["settings.SECRET_KEY"]


def test_objects_and_lists_used_in_a_message_are_named():
    template = "{{dynamic.a}} {{dynamic.b}}"
    assert not_scalar(template, dynamic={"a": {"x": 1}, "b": "ok", "c": [1]}) == ["a"]


def test_template_syntax_is_never_evaluated():
    template = "{% debug %} {{ settings.SECRET_KEY }} {{customer.__class__}}"
    assert render(template, customer={"name": "x"}, dynamic={}) == "{% debug %}"


@given(st.text(alphabet=st.characters(blacklist_characters="{}\x00"), max_size=60))
def test_text_without_placeholders_is_left_as_it_is(text):
    assert render(text, customer={}, dynamic={}) == text
