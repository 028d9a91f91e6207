Feature: Bad record input from the server
  A record message with a bad version, a body that is not JSON, a path into
  a value that is not a container, or for a record the client does not hold
  is reported as an error and leaves the record's data as it was.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the client creates a record named "solid"
    And the server sends the message R|A|S|solid+
    And the server sends the message R|R|solid|1|{"n":5,"o":{"k":"v"}}+

  Scenario: A bad version
    When the server sends the message R|U|solid|two|{"n":6}+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "invalid version or missing field in R|U for record 'solid'"
    And the client record "solid" data is {"n":5,"o":{"k":"v"}}

  Scenario: A body that is not JSON
    When the server sends the message R|U|solid|2|{bad+
    Then the client throws only "MESSAGE_PARSE_ERROR" errors
    And the client record "solid" data is {"n":5,"o":{"k":"v"}}
    And the client record "solid" has version 1

  Scenario: A path into a number
    When the server sends the message R|P|solid|2|n.deeper|N1+
    Then the client throws only "MESSAGE_PARSE_ERROR" errors
    And the client record "solid" data is {"n":5,"o":{"k":"v"}}

  Scenario: A record the client does not hold
    When the server sends the message R|U|stranger|2|{"a":1}+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "stranger"
    And the client record "solid" data is {"n":5,"o":{"k":"v"}}

  Scenario: The record still works afterwards
    When the server sends the message R|U|solid|x|{}+
    And the server sends the message R|P|solid|2|o.k|Sw+
    Then the client throws only "MESSAGE_PARSE_ERROR" errors
    And the client record "solid" "o.k" is "w"
