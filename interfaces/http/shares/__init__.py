"""HTTP routes of the shares area: grants, invitations, share links."""
