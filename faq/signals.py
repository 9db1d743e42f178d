"""Bump the account's FAQ index version on every save/delete of an entry, variant or synonym, including the
admin's direct writes (inlines, bulk delete action) and cascades. ``QuerySet.update``/``bulk_create`` send no
signals: services that use them bump explicitly."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from faq.models import FaqEntry, FaqVariant, Synonym
from faq.services import index_version_bump


@receiver(post_save, sender=FaqEntry, dispatch_uid="faq_entry_saved")
@receiver(post_save, sender=Synonym, dispatch_uid="faq_synonym_saved")
def _owned_saved(sender, instance, **kwargs):
    index_version_bump(account_id=instance.account_id)


@receiver(post_delete, sender=FaqEntry, dispatch_uid="faq_entry_deleted")
@receiver(post_delete, sender=Synonym, dispatch_uid="faq_synonym_deleted")
def _owned_deleted(sender, instance, **kwargs):
    index_version_bump(account_id=instance.account_id, create=False)


@receiver(post_save, sender=FaqVariant, dispatch_uid="faq_variant_saved")
def _variant_saved(sender, instance, **kwargs):
    account_id = FaqEntry.objects.filter(pk=instance.entry_id).values_list("account_id", flat=True).first()
    if account_id is not None:
        index_version_bump(account_id=account_id)


@receiver(post_delete, sender=FaqVariant, dispatch_uid="faq_variant_deleted")
def _variant_deleted(sender, instance, **kwargs):
    account_id = FaqEntry.objects.filter(pk=instance.entry_id).values_list("account_id", flat=True).first()
    if account_id is not None:
        index_version_bump(account_id=account_id, create=False)
