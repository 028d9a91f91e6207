Feature: Record listening (active providers)

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Listen and get the ack
    When the client listens to a record matching "recordPrefix/.*"
    Then the last message the server recieved is R|L|recordPrefix/.*+
    When the server sends the message R|A|L|recordPrefix/.*+
    And some time passes
    Then the server has received 2 messages

  Scenario: No ack for a listen
    When the client listens to a record matching "recordPrefix/.*"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for recordPrefix/.*"

  Scenario: Accept a match, then see it removed
    Given the client listens to a record matching "recordPrefix/.*"
    And the server sends the message R|A|L|recordPrefix/.*+
    When the server sends the message R|SP|recordPrefix/.*|recordPrefix/foundAMatch+
    Then the client will be notified of new record match "recordPrefix/foundAMatch"
    When the client accepts the record match "recordPrefix/foundAMatch"
    Then the last message the server recieved is R|LA|recordPrefix/.*|recordPrefix/foundAMatch+
    When the server sends the message R|SR|recordPrefix/.*|recordPrefix/foundAMatch+
    Then the client will be notified of record match removal "recordPrefix/foundAMatch"

  Scenario: Reject a match
    Given the client listens to a record matching "recordPrefix/.*"
    When the server sends the message R|SP|recordPrefix/.*|recordPrefix/foundAMatch+
    And the client rejects the record match "recordPrefix/foundAMatch"
    Then the last message the server recieved is R|LR|recordPrefix/.*|recordPrefix/foundAMatch+

  Scenario: Unlisten
    Given the client listens to a record matching "recordPrefix/.*"
    And the server sends the message R|A|L|recordPrefix/.*+
    When the client unlistens to a record matching "recordPrefix/.*"
    Then the last message the server recieved is R|UL|recordPrefix/.*+
