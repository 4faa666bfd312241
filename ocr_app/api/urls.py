from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("notes/", views.NoteCollectionView.as_view(), name="notes"),
    path("notes/<int:pk>/", views.NoteDetailView.as_view(), name="note_detail"),
    path("notes/<int:pk>/lines/<int:line_id>/", views.LineView.as_view(), name="note_line"),
    path("notes/<int:pk>/reprocess/", views.NoteReprocessView.as_view(), name="note_reprocess"),
    path("notes/<int:pk>/image/<str:variant>/", views.NoteImageView.as_view(), name="note_image"),
    path("search/", views.SearchView.as_view(), name="search"),
]
