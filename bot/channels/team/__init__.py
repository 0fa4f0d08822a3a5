"""The coach in the team's chat: Slack, Microsoft Teams, Telegram, Mattermost and Rocket.Chat.

One module per platform, each the shared base (bot/channels/connector.py) over the connector Rasa 3.6 ships.
Every connector is listed in bot/credentials.yml but stays off (its webhook answers 404, no call leaves the
server) until its environment variables are set; see the README's "Team chats" section.
"""
