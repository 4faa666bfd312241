from django.contrib import admin

from .models import Line, Note


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    fields = ("order", "text", "confidence", "needs_review")
    readonly_fields = ("order", "confidence")
    show_change_link = True


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("original_name", "owner", "status", "attempts", "engine_name", "uploaded_at", "processing_seconds")
    list_filter = ("status", "engine_name", "partial_result")
    search_fields = ("original_name", "sha256", "owner__username")
    readonly_fields = (
        "image", "preview", "thumbnail", "sha256", "size_bytes", "width", "height", "image_format",
        "content_type", "uploaded_at", "queued_at", "started_at", "finished_at", "heartbeat_at", "attempts",
        "run_token", "task_id", "engine_name", "engine_version", "partial_result", "processing_seconds",
    )
    inlines = [LineInline]


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ("text", "note", "confidence", "needs_review")
    list_filter = ("needs_review",)
    search_fields = ("text",)
    raw_id_fields = ("note",)
