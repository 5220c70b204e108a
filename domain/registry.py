"""Every aggregate class, imported once so their event topics are registered.

Stored events name their class by an explicit topic; resolving a topic needs
the class to have been defined. Import this module before reading the log.
"""

from __future__ import annotations

from domain.projects.aggregate import Project
from domain.shares.aggregate import Invitation, Share, ShareLink
from domain.urls.aggregate import Url
from domain.users.aggregate import User

AGGREGATES = (User, Project, Share, ShareLink, Invitation, Url)
