Feature: Records: create, read, set, write acknowledgements, discard, delete
  A record is created or read with R|CR; the first R|R makes it ready. Sets
  send the local version + 1: a path set as R|P, a whole set as R|U. A set
  with a callback asks for a write acknowledgement with the exact config
  {"writeSuccess":true}.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Create a record and read it
    When the client creates a record named "happyRecord"
    Then the last message the server recieved is R|CR|happyRecord+
    And the client record "happyRecord" is not ready
    When the server sends the message R|A|S|happyRecord+
    And the server sends the message R|R|happyRecord|100|{"name":"John", "pets": [{"name":"Ruffus", "type":"dog","age":2}]}+
    Then the client record "happyRecord" data is {"name":"John", "pets": [{"name":"Ruffus", "type":"dog","age":2}]}
    And the client record "happyRecord" has version 100
    And the client record "happyRecord" is ready

  Scenario: No ack for the read
    When the client creates a record named "unhappyRecord"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for unhappyRecord"

  Scenario: No data for the read
    When the client creates a record named "unhappyRecord"
    And the server sends the message R|A|S|unhappyRecord+
    And some time passes
    And some time passes
    And some time passes
    Then the client throws a "RESPONSE_TIMEOUT" error with message "No ACK message received in time for unhappyRecord"

  Scenario: Set a path and the whole record
    Given the client creates a record named "happyRecord"
    And the server sends the message R|A|S|happyRecord+
    And the server sends the message R|R|happyRecord|100|{"name":"John", "pets": [{"name":"Ruffus", "type":"dog","age":2}]}+
    When the client sets the record "happyRecord" "pets.0.name" to "Max"
    Then the last message the server recieved is R|P|happyRecord|101|pets.0.name|SMax+
    When the client sets the record "happyRecord" "pets[0].age" to "3"
    Then the last message the server recieved is R|P|happyRecord|102|pets[0].age|S3+
    When the client sets the record "happyRecord" to {"name":"Smith", "pets": [{"name":"Ruffus", "type":"dog","age":2}]}
    And some time passes
    Then the last message the server recieved is R|U|happyRecord|103|{"name":"Smith","pets":[{"name":"Ruffus","type":"dog","age":2}]}+
    And the client record "happyRecord" data is {"name":"Smith", "pets": [{"name":"Ruffus", "type":"dog","age":2}]}

  Scenario: A path is sent as written unless the server would build another shape
    Into existing containers the server reads a path as we do. A set that
    creates a list goes out with [n]: the server makes lists only for those.
    Given the client creates a record named "happyRecord"
    And the server sends the message R|A|S|happyRecord+
    And the server sends the message R|R|happyRecord|100|{"pets": [{"name":"Ruffus"}], "o": {"0": "a"}}+
    When the client sets the record "happyRecord" "pets.0.name" to "Max"
    Then the last message the server recieved is R|P|happyRecord|101|pets.0.name|SMax+
    When the client sets the record "happyRecord" "o[0]" to "b"
    Then the last message the server recieved is R|P|happyRecord|102|o[0]|Sb+
    When the client sets the record "happyRecord" "fresh.x" to "y"
    Then the last message the server recieved is R|P|happyRecord|103|fresh.x|Sy+
    When the client sets the record "happyRecord" "list.0.x" to "y"
    Then the last message the server recieved is R|P|happyRecord|104|list[0].x|Sy+
    When the client sets the record "happyRecord" "pets.1.tags.0" to "good"
    Then the last message the server recieved is R|P|happyRecord|105|pets[1].tags[0]|Sgood+
    And the client record "happyRecord" data is {"pets": [{"name":"Max"}, {"tags": ["good"]}], "o": {"0": "b"}, "fresh": {"x": "y"}, "list": [{"x": "y"}]}

  Scenario: A set that changes nothing sends nothing
    Given the client creates a record named "same"
    And the server sends the message R|A|S|same+
    And the server sends the message R|R|same|4|{"a":"x"}+
    And the server resets its message count
    When the client sets the record "same" "a" to "x"
    And the client sets the record "same" to {"a":"x"}
    Then the server did not recieve any messages

  Scenario: Sets before the record is ready are sent in order once it is
    Given the client creates a record named "early"
    When the client sets the record "early" "a" to "1"
    And the client sets the record "early" "b" to "2"
    Then the last message the server recieved is R|CR|early+
    When the server sends the message R|R|early|7|{}+
    Then the server received the message R|P|early|8|a|S1+
    And the last message the server recieved is R|P|early|9|b|S2+
    And the client record "early" data is {"a":"1","b":"2"}

  Scenario: 0, false and "" are sent as whole updates (7.0.2 refuses them as path sets)
    Given the client creates a record named "counter"
    And the server sends the message R|A|S|counter+
    And the server sends the message R|R|counter|1|{"count":5}+
    When the client sets the record "counter" "count" to the JSON value 0
    Then the last message the server recieved is R|U|counter|2|{"count":0}+
    When the client sets the record "counter" "count" to the JSON value 1
    Then the last message the server recieved is R|P|counter|3|count|N1+

  Scenario: Write acknowledgements
    Given the client creates a record named "ackRecord"
    And the server sends the message R|A|S|ackRecord+
    And the server sends the message R|R|ackRecord|1|{}+
    And the client requires write acknowledgement on record "ackRecord"
    When the client sets the record "ackRecord" "a" to "b"
    Then the last message the server recieved is R|P|ackRecord|2|a|Sb|{"writeSuccess":true}+
    When the server sends the message R|WA|ackRecord|[2]|L+
    Then the client is notified that the record "ackRecord" was written without error
    When the client sets the record "ackRecord" to {"c":"d"}
    Then the last message the server recieved is R|U|ackRecord|3|{"c":"d"}|{"writeSuccess":true}+
    When the server sends the message R|WA|ackRecord|[3]|SRECORD_UPDATE_ERROR+
    Then the client is notified that the record "ackRecord" was written with error "RECORD_UPDATE_ERROR"

  Scenario: Discard
    Given the client creates a record named "happyRecord"
    And the server sends the message R|A|S|happyRecord+
    And the server sends the message R|R|happyRecord|1|{}+
    When the client discards the record named "happyRecord"
    Then the last message the server recieved is R|US|happyRecord+
    And the client record "happyRecord" is destroyed
    When the server sends the message R|A|US|happyRecord+
    And some time passes
    Then the server has received 3 messages

  Scenario: No ack for a discard
    Given the client creates a record named "happyRecord"
    And the server sends the message R|A|S|happyRecord+
    And the server sends the message R|R|happyRecord|1|{}+
    When the client discards the record named "happyRecord"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for happyRecord"

  Scenario: Delete
    Given the client creates a record named "doomed"
    And the server sends the message R|A|S|doomed+
    And the server sends the message R|R|doomed|1|{}+
    When the client deletes the record named "doomed"
    Then the last message the server recieved is R|D|doomed+
    When the server sends the message R|A|D|doomed+
    And some time passes
    Then the client record "doomed" is destroyed

  Scenario: No ack for a delete
    Given the client creates a record named "doomed"
    And the server sends the message R|A|S|doomed+
    And the server sends the message R|R|doomed|1|{}+
    When the client deletes the record named "doomed"
    And some time passes
    Then the client throws a "DELETE_TIMEOUT" error with message "No ACK message received in time for doomed"

  Scenario: A record deleted by another client refuses further use
    Given the client creates a record named "shared"
    And the server sends the message R|A|S|shared+
    And the server sends the message R|R|shared|1|{}+
    When the server sends the message R|A|D|shared+
    Then the client record "shared" is destroyed
    When the client sets the record "shared" "a" to "b"
    Then the client throws a "RECORD_DESTROYED" error with message "Can't invoke 'set'. Record 'shared' is already destroyed"
    And the last message the server recieved is R|CR|shared+
