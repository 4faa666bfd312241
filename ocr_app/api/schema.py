"""Additions to the generated OpenAPI description (a drf-spectacular postprocessing hook)."""

from __future__ import annotations

NOTES = "/api/v1/notes/"
NOTE = "/api/v1/notes/{id}/"
REPROCESS = "/api/v1/notes/{id}/reprocess/"


def _note_links(id_expression: str) -> dict:
    """Where a note's id, found in a response, can be used next."""
    parameters = {"id": id_expression}
    return {
        "GetNote": {"operationId": "notes_retrieve", "parameters": parameters,
                    "description": "The note's status and lines."},
        "ReprocessNote": {"operationId": "notes_reprocess", "parameters": parameters,
                          "description": "Recognise the note again."},
        "GetNoteImage": {"operationId": "notes_image", "parameters": {**parameters, "variant": "original"},
                         "description": "The note's original image."},
        "UpdateNote": {"operationId": "notes_partial_update", "parameters": parameters,
                       "description": "Rename the note, or set its tags."},
        "DeleteNote": {"operationId": "notes_destroy", "parameters": parameters,
                       "description": "Delete the note."},
    }


# (path, method, status) -> the JSON pointer of a note id in that response.
NOTE_ID_IN = {
    (NOTES, "post", "201"): "$response.body#/results/0/note/id",
    # Every file was a duplicate: each result names the note that already has it.
    (NOTES, "post", "200"): "$response.body#/results/0/error/note",
    (NOTES, "get", "200"): "$response.body#/results/0/id",
    (NOTE, "get", "200"): "$response.body#/id",
    (NOTE, "patch", "200"): "$response.body#/id",
    (REPROCESS, "post", "202"): "$response.body#/id",
}


def add_note_links(result: dict, generator, request, public) -> dict:
    """OpenAPI links: which responses give a note id and which calls take it, so that
    clients and tools (schemathesis's stateful phase) can follow a note from its upload."""
    for (path, method, status), expression in NOTE_ID_IN.items():
        response = result["paths"][path][method]["responses"][status]
        response["links"] = _note_links(expression)
    return result
