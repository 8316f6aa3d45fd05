from .cart import Cart


def shop(request):
    """Navigation facts every page needs: the user's role and the cart's item count."""
    user = getattr(request, "user", None)
    profile = getattr(user, "profile", None) if user and user.is_authenticated else None
    session = getattr(request, "session", None)
    return {
        "nav_role": profile.role if profile else None,
        # Read from the session only: no product query on every page.
        "cart_count": Cart(session).count() if session is not None else 0,
    }
