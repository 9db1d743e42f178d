"""Write-only secret fields of admin forms (channel credentials, provider keys): the form never prints a
stored secret back into the page, says only whether one is stored, and a field left blank keeps it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


def mask_secret(value: str) -> str:
    return "••••••" if value else "—"


class WriteOnlySecretsForm(forms.ModelForm):
    """A ModelForm whose ``secret_fields`` are empty password inputs; blank keeps the stored value."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            field = self.fields[name]
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.required = False
            field.help_text = _("Stored: %(state)s. Leave blank to keep it.") % {
                "state": mask_secret(getattr(self.instance, name, ""))
            }

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        for name in self.secret_fields:
            if name in self.changed_data and not self.data.get(self.add_prefix(name)):
                self.changed_data.remove(name)
