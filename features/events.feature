Feature: Events
  Subscribe, publish, receive and unsubscribe, with ack timeouts.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Subscribe and receive the ack
    When the client subscribes to an event named "news"
    Then the last message the server recieved is E|S|news+
    When the server sends the message E|A|S|news+
    And some time passes
    Then the server has received 2 messages

  Scenario: No ack for a subscription
    When the client subscribes to an event named "news"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for news"
    And the last error was on topic "E"

  Scenario: Publish an event
    When the client publishes an event named "news" with data "hello"
    Then the last message the server recieved is E|EVT|news|Shello+

  Scenario: Receive an event
    Given the client subscribes to an event named "news"
    And the server sends the message E|A|S|news+
    When the server sends the message E|EVT|news|Shello+
    Then the client received the event "news" with data "hello"
    And the client received 1 event named "news"

  Scenario: Receive a typed event
    Given the client subscribes to an event named "temp"
    And the server sends the message E|A|S|temp+
    When the server sends the message E|EVT|temp|N21+
    And the server sends the message E|EVT|temp|O{"a":[1,2]}+
    Then the client received 2 events named "temp"

  Scenario: Unsubscribe
    Given the client subscribes to an event named "news"
    And the server sends the message E|A|S|news+
    When the client unsubscribes from an event named "news"
    Then the last message the server recieved is E|US|news+
    When the server sends the message E|A|US|news+
    And the server sends the message E|EVT|news|Shello+
    And some time passes
    Then the client received 0 events named "news"

  Scenario: No ack for an unsubscription
    Given the client subscribes to an event named "news"
    And the server sends the message E|A|S|news+
    When the client unsubscribes from an event named "news"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for news"
