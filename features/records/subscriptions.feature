Feature: Record subscriptions
  Subscriptions fire only when the value at their path really changed, for
  local and remote changes.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the client creates a record named "subRecord"
    And the server sends the message R|A|S|subRecord+
    And the server sends the message R|R|subRecord|1|{"name":"John","pets":[{"name":"Ruffus"}]}+

  Scenario: Subscribe to a path: remote and local changes
    Given the client subscribes to "name" for the record "subRecord"
    When the server sends the message R|P|subRecord|2|name|SJohn+
    Then the client will not be notified of the record change
    When the server sends the message R|P|subRecord|3|name|SSmith+
    Then the client will be notified of the partial record change
    And the record change was notified with "Smith"
    When the server sends the message R|U|subRecord|4|{"name":"Smith","pets":[]}+
    Then the client will not be notified of the record change
    When the client sets the record "subRecord" "name" to "Mary"
    Then the client will be notified of the second record change
    And the record change was notified with "Mary"

  Scenario: Unsubscribe from a path
    Given the client subscribes to "name" for the record "subRecord"
    And the client unsubscribes to "name" for the record "subRecord"
    When the server sends the message R|P|subRecord|2|name|SSmith+
    Then the client will not be notified of the record change

  Scenario: Subscribe to the entire record
    Given the client subscribes to the entire record "subRecord" changes
    When the server sends the message R|U|subRecord|2|{"name":"Smith"}+
    Then the client will be notified of the record change
    And the record change was notified with {"name":"Smith"}
    When the server sends the message R|P|subRecord|3|pets[0].name|SRex+
    Then the client will be notified of the second record change
    When the client unsubscribes to the entire record "subRecord" changes
    And the server sends the message R|P|subRecord|4|name|SJane+
    Then the client will not be notified of the record change

  Scenario: Trigger now
    When the client subscribes to "pets.0.name" for the record "subRecord" with trigger now
    Then the client will be notified of the record change
    And the record change was notified with "Ruffus"
    When the server sends the message R|P|subRecord|2|pets.0.name|SRex+
    Then the client will be notified of the record change
    When the server sends the message R|P|subRecord|3|pets[0].name|U+
    Then the client will be notified of the record change
    And the record change was notified with null

  Scenario: A patch with an unexpected version asks for the full state
    Given the client subscribes to "name" for the record "subRecord"
    When the server sends the message R|P|subRecord|5|name|SLate+
    Then the last message the server recieved is R|SN|subRecord+
    And the client will not be notified of the record change
    When the server sends the message R|R|subRecord|5|{"name":"Late"}+
    Then the client will be notified of the record change
    And the client record "subRecord" has version 5
