import datetime


def change_form_data(response) -> dict:
    """An admin change form's current values, its inlines' included, as a browser would
    post them back."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data |= _form_data(inline.formset.management_form)
        for form in inline.formset.forms:
            data |= _form_data(form)
    return data


def _form_data(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        elif isinstance(value, datetime.time):
            value = value.strftime("%H:%M")
        data[form.add_prefix(name)] = value
    return data
