from django.urls import path

from .web import notes, review, search, tags, tokens, words

app_name = "ocr_app"

urlpatterns = [
    path("", notes.note_list, name="note_list"),
    path("notes/status.json", notes.notes_status, name="notes_status"),
    path("upload/", notes.upload, name="upload"),
    path("export.zip", notes.export_zip, name="export"),
    path("search/", search.search_page, name="search"),
    path("search.json", search.search_json, name="search_json"),
    path("search/suggest.json", search.suggest_json, name="suggest"),
    path("notes/<int:pk>/", notes.note_detail, name="note_detail"),
    path("notes/<int:pk>/lines/", notes.note_lines, name="note_lines"),
    path("notes/<int:pk>/status.json", notes.note_status, name="note_status"),
    path("notes/<int:pk>/image/<str:variant>/", notes.note_image, name="note_image"),
    path("notes/<int:pk>/reprocess/", notes.note_reprocess, name="note_reprocess"),
    path("notes/<int:pk>/delete/", notes.note_delete, name="note_delete"),
    path("notes/<int:pk>/tags/", tags.note_tags_add, name="note_tags_add"),
    path("notes/<int:pk>/tags/<int:tag_id>/remove/", tags.note_tag_remove, name="note_tag_remove"),
    path("notes/selected/", tags.bulk_notes, name="bulk_notes"),
    path("tags/", tags.tag_list, name="tags"),
    path("tags/<int:tag_id>/rename/", tags.tag_rename, name="tag_rename"),
    path("tags/<int:tag_id>/delete/", tags.tag_delete, name="tag_delete"),
    path("notes/<int:pk>/lines/<int:line_pk>/", notes.line_edit, name="line_edit"),
    path("notes/<int:pk>/lines/<int:line_pk>/history/", notes.line_history, name="line_history"),
    path("notes/<int:pk>/lines/add/", notes.line_add, name="line_add"),
    path("notes/<int:pk>/deleted-lines/<int:deleted_pk>/", notes.line_undelete, name="line_undelete"),
    path("notes/<int:pk>/type-text/", notes.note_type_text, name="note_type_text"),
    path("notes/<int:pk>/title/", notes.note_rename, name="note_rename"),
    path("settings/tokens/", tokens.tokens, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.revoke, name="api_token_revoke"),
    path("settings/words/", words.learned_words, name="learned_words"),
    path("settings/words/<int:pk>/remove/", words.remove, name="learned_word_remove"),
    path("review/", review.queue, name="review_queue"),
    path("review/accuracy/", review.accuracy_report, name="review_accuracy"),
    path("review/lines/<int:pk>/", review.act, name="review_act"),
    path("review/lines/<int:pk>/crop.jpg", review.crop, name="review_crop"),
    path("review/lines/<int:pk>/history/", review.history, name="review_history"),
    path("review/notes/<int:pk>/", review.type_note, name="review_type_note"),
    path("review/notes/<int:pk>/photo.jpg", review.note_photo, name="review_note_photo"),
]
