Feature: Record versions and conflicts
  A remote update with an unexpected version, or VERSION_EXISTS, goes
  through the merge strategy (default: remote wins). A write never carries
  a version above the current one + 1.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the client creates a record named "conflict"
    And the server sends the message R|A|S|conflict+
    And the server sends the message R|R|conflict|3|{"name":"a"}+

  Scenario: VERSION_EXISTS: the remote data wins
    Given the client requires write acknowledgement on record "conflict"
    When the client sets the record "conflict" "name" to "mine"
    Then the last message the server recieved is R|P|conflict|4|name|Smine|{"writeSuccess":true}+
    When the server sends the message R|E|VERSION_EXISTS|conflict|4|{"name":"theirs"}|{"writeSuccess":true}+
    Then the client record "conflict" data is {"name":"theirs"}
    And the client record "conflict" has version 4
    And the client is notified that the record "conflict" was written without error
    When the client sets the record "conflict" "name" to "next"
    Then the last message the server recieved is R|P|conflict|5|name|Snext|{"writeSuccess":true}+

  Scenario: A full update with an unexpected version is merged
    When the server sends the message R|U|conflict|9|{"name":"far"}+
    Then the client record "conflict" data is {"name":"far"}
    And the client record "conflict" has version 9
    When the client sets the record "conflict" "name" to "after"
    Then the last message the server recieved is R|P|conflict|10|name|Safter+

  Scenario: Updates in order are applied
    When the server sends the message R|U|conflict|4|{"name":"b","list":[]}+
    And the server sends the message R|P|conflict|5|list[1]|Sx+
    Then the client record "conflict" data is {"name":"b","list":[null,"x"]}
    And the client record "conflict" has version 5
    And the server has received 2 messages
