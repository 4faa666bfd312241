from django.urls import path

from . import review_views, search_views, tag_views, token_views, views, word_views

app_name = "ocr_app"

urlpatterns = [
    path("", views.note_list, name="note_list"),
    path("notes/status.json", views.notes_status, name="notes_status"),
    path("upload/", views.upload, name="upload"),
    path("export.zip", views.export_zip, name="export"),
    path("search/", search_views.search_page, name="search"),
    path("search.json", search_views.search_json, name="search_json"),
    path("search/suggest.json", search_views.suggest_json, name="suggest"),
    path("notes/<int:pk>/", views.note_detail, name="note_detail"),
    path("notes/<int:pk>/lines/", views.note_lines, name="note_lines"),
    path("notes/<int:pk>/status.json", views.note_status, name="note_status"),
    path("notes/<int:pk>/image/<str:variant>/", views.note_image, name="note_image"),
    path("notes/<int:pk>/reprocess/", views.note_reprocess, name="note_reprocess"),
    path("notes/<int:pk>/delete/", views.note_delete, name="note_delete"),
    path("notes/<int:pk>/tags/", tag_views.note_tags_add, name="note_tags_add"),
    path("notes/<int:pk>/tags/<int:tag_id>/remove/", tag_views.note_tag_remove, name="note_tag_remove"),
    path("notes/selected/", tag_views.bulk_notes, name="bulk_notes"),
    path("tags/", tag_views.tag_list, name="tags"),
    path("tags/<int:tag_id>/rename/", tag_views.tag_rename, name="tag_rename"),
    path("tags/<int:tag_id>/delete/", tag_views.tag_delete, name="tag_delete"),
    path("notes/<int:pk>/lines/<int:line_pk>/", views.line_edit, name="line_edit"),
    path("notes/<int:pk>/lines/<int:line_pk>/history/", views.line_history, name="line_history"),
    path("notes/<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("notes/<int:pk>/deleted-lines/<int:deleted_pk>/", views.line_undelete, name="line_undelete"),
    path("notes/<int:pk>/type-text/", views.note_type_text, name="note_type_text"),
    path("notes/<int:pk>/title/", views.note_rename, name="note_rename"),
    path("settings/tokens/", token_views.tokens, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", token_views.revoke, name="api_token_revoke"),
    path("settings/words/", word_views.learned_words, name="learned_words"),
    path("settings/words/<int:pk>/remove/", word_views.remove, name="learned_word_remove"),
    path("review/", review_views.queue, name="review_queue"),
    path("review/accuracy/", review_views.accuracy_report, name="review_accuracy"),
    path("review/lines/<int:pk>/", review_views.act, name="review_act"),
    path("review/lines/<int:pk>/crop.jpg", review_views.crop, name="review_crop"),
    path("review/lines/<int:pk>/history/", review_views.history, name="review_history"),
    path("review/notes/<int:pk>/", review_views.type_note, name="review_type_note"),
    path("review/notes/<int:pk>/photo.jpg", review_views.note_photo, name="review_note_photo"),
]
