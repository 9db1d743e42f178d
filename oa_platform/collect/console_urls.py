"""The collection pages of the staff console; included by oa_platform.staff_urls at /staff/<slug>/forms/ (in
the "staff" namespace)."""

from django.urls import path

from oa_platform.collect import console
from oa_platform.console import formbuild

urlpatterns = [
    path("", console.forms, name="forms"),
    path("new/", formbuild.form_new, name="form-new"),
    path("<id:pk>/questions/", formbuild.form_questions, name="form-questions"),
    path("<id:pk>/questions/<id:qid>/", formbuild.form_question_edit, name="form-question-edit"),
    path("<id:pk>/questions/<id:qid>/move/", formbuild.form_question_move, name="form-question-move"),
    path("<id:pk>/round/", formbuild.form_round, name="form-round"),
    path("<id:pk>/", console.form_results, name="form-results"),
    path("<id:pk>/live/", console.form_results_live, name="form-results-live"),
    path("<id:pk>/export/", console.form_export, name="form-export"),
    path("<id:pk>/remind/", console.form_remind, name="form-remind"),
]
