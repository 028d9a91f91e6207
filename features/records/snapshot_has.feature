Feature: Record snapshot and has
  snapshot() asks R|SN; a missing record is reported in the 7.0.2 layout
  (R|E|RECORD_NOT_FOUND|name) or the v3 one (R|E|SN|name|RECORD_NOT_FOUND).
  has() asks R|HD (7.0.2 does not answer R|H): version -1 means missing; a
  v3 answer R|H|name|T/F is accepted too. Without an answer the callback gets
  RESPONSE_TIMEOUT (the error event fires too), so nothing waits forever.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Snapshot of an existing record
    When the client requests a snapshot for the record "snapshotRecord"
    Then the last message the server recieved is R|SN|snapshotRecord+
    And the client has no response for the snapshot of record "snapshotRecord"
    When the server sends the message R|R|snapshotRecord|1|{"name":"John"}+
    Then the client is provided the snapshot for record "snapshotRecord" with data "{"name":"John"}"

  Scenario: Snapshot of a missing record (v3 layout)
    When the client requests a snapshot for the record "snapshotRecord"
    And the server sends the message R|E|SN|snapshotRecord|RECORD_NOT_FOUND+
    Then the client is told the record "snapshotRecord" encountered an error retrieving snapshot

  Scenario: Snapshot of a missing record (7.0.2 layout)
    When the client requests a snapshot for the record "snapshotRecord"
    And the server sends the message R|E|RECORD_NOT_FOUND|snapshotRecord+
    Then the client is told the record "snapshotRecord" encountered an error retrieving snapshot

  Scenario: Snapshot without an answer times out and calls back
    When the client requests a snapshot for the record "snapshotRecord"
    And some time passes
    And some time passes
    And some time passes
    Then the client throws a "RESPONSE_TIMEOUT" error with message "No response received in time for R|SN|snapshotRecord"
    And the client is told the snapshot failed with "RESPONSE_TIMEOUT"

  Scenario: Snapshot of a held record is answered locally
    Given the client creates a record named "held"
    And the server sends the message R|A|S|held+
    And the server sends the message R|R|held|2|{"x":1}+
    And the server resets its message count
    When the client requests a snapshot for the record "held"
    Then the client is provided the snapshot for record "held" with data "{"x":1}"
    And the server did not recieve any messages

  Scenario: Has, asked with R|HD (7.0.2 answers)
    When the client checks if the server has the record "hasRecord"
    Then the last message the server recieved is R|HD|hasRecord+
    When the server sends the message R|HD|hasRecord|4|null+
    Then the client is told the record "hasRecord" exists
    When the client checks if the server has the record "noRecord"
    And the server sends the message R|HD|noRecord|-1|null+
    Then the client is told the record "noRecord" doesn't exist

  Scenario: Has, v3 answers
    When the client checks if the server has the record "hasRecord"
    And the server sends the message R|H|hasRecord|T+
    Then the client is told the record "hasRecord" exists
    When the client checks if the server has the record "hasRecord"
    And the server sends the message R|H|hasRecord|F+
    Then the client is told the record "hasRecord" doesn't exist

  Scenario: Has without an answer times out and calls back
    When the client checks if the server has the record "hasRecord"
    And some time passes
    And some time passes
    And some time passes
    Then the client throws a "RESPONSE_TIMEOUT" error with message "No response received in time for R|HD|hasRecord"
    And the client is told the check for the record failed with "RESPONSE_TIMEOUT"

  Scenario: Write without subscribing (R|CU, the config field always sent)
    Given the client requires write acknowledgement on record "cu"
    When the client sets data of the record "cu" "a.b" to the JSON value 3
    Then the last message the server recieved is R|CU|cu|-1|a.b|N3|{"writeSuccess":true}+
    When the server sends the message R|WA|cu|[-1]|L+
    Then the client is notified that the record "cu" was written without error
    When the client sets data of the record "plain" to {"x":1}
    Then the last message the server recieved is R|CU|plain|-1|{"x":1}|{}+
