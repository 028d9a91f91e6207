Feature: Event listening (active providers)

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Listen and get the ack
    When the client listens to events matching "eventPrefix/.*"
    Then the last message the server recieved is E|L|eventPrefix/.*+
    When the server sends the message E|A|L|eventPrefix/.*+
    And some time passes
    Then the server has received 2 messages

  Scenario: No ack for a listen
    When the client listens to events matching "eventPrefix/.*"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for eventPrefix/.*"

  Scenario: Accept a match, then see it removed
    Given the client listens to events matching "eventPrefix/.*"
    And the server sends the message E|A|L|eventPrefix/.*+
    When the server sends the message E|SP|eventPrefix/.*|eventPrefix/foundAMatch+
    Then the client will be notified of new event match "eventPrefix/foundAMatch"
    When the client accepts the event match "eventPrefix/foundAMatch"
    Then the last message the server recieved is E|LA|eventPrefix/.*|eventPrefix/foundAMatch+
    When the server sends the message E|SR|eventPrefix/.*|eventPrefix/foundAMatch+
    Then the client will be notified of event match removal "eventPrefix/foundAMatch"
    And the listen callback got no response object for the removal of "eventPrefix/foundAMatch"

  Scenario: Reject a match
    Given the client listens to events matching "eventPrefix/.*"
    And the server sends the message E|A|L|eventPrefix/.*+
    When the server sends the message E|SP|eventPrefix/.*|eventPrefix/foundAMatch+
    Then the client will be notified of new event match "eventPrefix/foundAMatch"
    When the client rejects the event match "eventPrefix/foundAMatch"
    Then the last message the server recieved is E|LR|eventPrefix/.*|eventPrefix/foundAMatch+

  Scenario: Unlisten
    Given the client listens to events matching "eventPrefix/.*"
    And the server sends the message E|A|L|eventPrefix/.*+
    When the client unlistens to events matching "eventPrefix/.*"
    Then the last message the server recieved is E|UL|eventPrefix/.*+
    When the server sends the message E|A|UL|eventPrefix/.*+
    And some time passes
    Then the server has received 3 messages

  Scenario: A match for a pattern nobody listens to
    When the server sends the message E|SP|nobody/.*|nobody/x+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "nobody/.*"
    And the last error was on topic "E"

  Scenario: Listening twice to the same pattern
    Given the client listens to events matching "eventPrefix/.*"
    And the server sends the message E|A|L|eventPrefix/.*+
    When the client listens to events matching "eventPrefix/.*"
    Then the client throws a "LISTENER_EXISTS" error with message "eventPrefix/.*"
    And the server has received 2 messages

  Scenario: Unlistening a pattern nobody listens to
    When the client unlistens to events matching "nothing/.*"
    Then the client throws a "NOT_LISTENING" error with message "nothing/.*"
    And the server has received 1 messages
