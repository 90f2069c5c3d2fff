from django import template

from accounts import notifications

register = template.Library()


@register.simple_tag
def render_notification(notification):
    """The title and body of a notification in the language of the page."""
    return notifications.render(notification.kind, notification.params)
