Feature: Parsing what the server sends
  Bad input never kills the client: it is reported as an error and dropped.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: A message with too few parts
    When the server sends the message XYZ+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "Insufficiant message parts"
    And the last error was on topic "X"

  Scenario: An unknown action
    When the server sends the message E|XX|news+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "Unknown action XX"
    And the last error was on topic "X"

  Scenario: An unknown topic
    When the server sends the message Z|EVT|news+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "Received message for unknown topic Z"
    And the last error was on topic "Z"

  Scenario: An unknown type prefix in event data
    Given the client subscribes to an event named "news"
    And the server sends the message E|A|S|news+
    When the server sends the message E|EVT|news|Zbad+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "UNKNOWN_TYPE (Zbad)"
    And the last error was on topic "X"

  Scenario: Pieces shorter than three characters are ignored
    When the server sends the message E+ab+
    And some time passes
    Then the clients connection state is "OPEN"

  Scenario: A zero-length frame is ignored
    When the server sends an empty frame
    And some time passes
    Then the clients connection state is "OPEN"
    And the server has 1 active connections

  Scenario: Several messages in one frame
    Given the client subscribes to an event named "news"
    When the server sends the message E|A|S|news+E|EVT|news|Sone+E|EVT|news|Stwo+
    Then the client received 2 events named "news"
    And the client received the event "news" with data "two"

  Scenario: The client keeps working after a bad message
    Given the client subscribes to an event named "news"
    And the server sends the message E|A|S|news+
    When the server sends the message E|XX|news+E|EVT|news|Sok+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "Unknown action XX"
    And the client received the event "news" with data "ok"
