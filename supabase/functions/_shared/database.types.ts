
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "audit_log": {
                  Row: {
                    "actor_id": string | null,"actor_role": string,"at": string,"id": number,"new_row": Json | null,"old_row": Json | null,"operation": string,"row_id": string | null,"table_name": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "actor_id"?: string | null,"actor_role": string,"at"?: string,"id"?: never,"new_row"?: Json | null,"old_row"?: Json | null,"operation": string,"row_id"?: string | null,"table_name": string,"user_id"?: string | null
                  }
                  Update: {
                    "actor_id"?: string | null,"actor_role"?: string,"at"?: string,"id"?: never,"new_row"?: Json | null,"old_row"?: Json | null,"operation"?: string,"row_id"?: string | null,"table_name"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"broker_accounts": {
                  Row: {
                    "account_number": string | null,"broker": Database["public"]['Enums']["broker_kind"],"created_at": string,"environment": Database["public"]['Enums']["broker_environment"],"id": string,"key_id_hint": string,"label": string,"last_verified_at": string | null,"secret_id": string,"status": Database["public"]['Enums']["broker_account_status"],"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "account_number"?: string | null,"broker"?: Database["public"]['Enums']["broker_kind"],"created_at"?: string,"environment": Database["public"]['Enums']["broker_environment"],"id"?: string,"key_id_hint": string,"label": string,"last_verified_at"?: string | null,"secret_id": string,"status"?: Database["public"]['Enums']["broker_account_status"],"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "account_number"?: string | null,"broker"?: Database["public"]['Enums']["broker_kind"],"created_at"?: string,"environment"?: Database["public"]['Enums']["broker_environment"],"id"?: string,"key_id_hint"?: string,"label"?: string,"last_verified_at"?: string | null,"secret_id"?: string,"status"?: Database["public"]['Enums']["broker_account_status"],"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"broker_request_slots": {
                  Row: {
                    "abandon_at": string,"account_id": string,"done_at": string | null,"granted_at": string,"id": number
                  }
                  ComputedFields: never
                  Insert: {
                    "abandon_at": string,"account_id": string,"done_at"?: string | null,"granted_at"?: string,"id"?: never
                  }
                  Update: {
                    "abandon_at"?: string,"account_id"?: string,"done_at"?: string | null,"granted_at"?: string,"id"?: never
                  }
                  Relationships: [
                    
                  ]
                },"notification_deliveries": {
                  Row: {
                    "attempts": number,"channel": Database["public"]['Enums']["notification_channel"],"config_id": string | null,"created_at": string,"delivered_at": string | null,"event": string,"id": string,"last_error": string | null,"last_status_code": number | null,"next_attempt_at": string,"payload": NonNullable<Json>,"signal_id": string,"status": Database["public"]['Enums']["delivery_status"],"updated_at": string,"url": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"channel": Database["public"]['Enums']["notification_channel"],"config_id"?: string | null,"created_at"?: string,"delivered_at"?: string | null,"event": string,"id"?: string,"last_error"?: string | null,"last_status_code"?: number | null,"next_attempt_at"?: string,"payload": NonNullable<Json>,"signal_id": string,"status"?: Database["public"]['Enums']["delivery_status"],"updated_at"?: string,"url": string,"user_id": string
                  }
                  Update: {
                    "attempts"?: number,"channel"?: Database["public"]['Enums']["notification_channel"],"config_id"?: string | null,"created_at"?: string,"delivered_at"?: string | null,"event"?: string,"id"?: string,"last_error"?: string | null,"last_status_code"?: number | null,"next_attempt_at"?: string,"payload"?: NonNullable<Json>,"signal_id"?: string,"status"?: Database["public"]['Enums']["delivery_status"],"updated_at"?: string,"url"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "notification_deliveries_config_id_fkey"
      columns: ["config_id"]
isOneToOne: false
      referencedRelation: "webhook_configs"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "notification_deliveries_signal_id_fkey"
      columns: ["signal_id"]
isOneToOne: false
      referencedRelation: "webhook_signals"
      referencedColumns: ["id"]
    }
                  ]
                },"order_events": {
                  Row: {
                    "created_at": string,"detail": NonNullable<Json>,"event": string,"id": number,"order_id": string | null,"signal_id": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"detail"?: NonNullable<Json>,"event": string,"id"?: never,"order_id"?: string | null,"signal_id": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"detail"?: NonNullable<Json>,"event"?: string,"id"?: never,"order_id"?: string | null,"signal_id"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "order_events_order_id_fkey"
      columns: ["order_id"]
isOneToOne: false
      referencedRelation: "orders"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "order_events_signal_id_fkey"
      columns: ["signal_id"]
isOneToOne: false
      referencedRelation: "webhook_signals"
      referencedColumns: ["id"]
    }
                  ]
                },"orders": {
                  Row: {
                    "broker": Database["public"]['Enums']["broker_kind"],"broker_account_id": string | null,"broker_order_id": string | null,"broker_response": Json | null,"client_order_id": string,"config_id": string | null,"created_at": string,"error_message": string | null,"filled_at": string | null,"filled_avg_price": number | null,"filled_qty": number,"id": string,"limit_price": number | null,"notional": number | null,"order_class": string | null,"order_type": string,"origin_config_id": string | null,"purpose": string,"qty": number | null,"request": NonNullable<Json>,"side": string,"signal_id": string,"status": Database["public"]['Enums']["order_status"],"stop_price": number | null,"submitted_at": string | null,"symbol": string,"time_in_force": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "broker": Database["public"]['Enums']["broker_kind"],"broker_account_id"?: string | null,"broker_order_id"?: string | null,"broker_response"?: Json | null,"client_order_id": string,"config_id"?: string | null,"created_at"?: string,"error_message"?: string | null,"filled_at"?: string | null,"filled_avg_price"?: number | null,"filled_qty"?: number,"id"?: string,"limit_price"?: number | null,"notional"?: number | null,"order_class"?: string | null,"order_type": string,"origin_config_id"?: string | null,"purpose"?: string,"qty"?: number | null,"request": NonNullable<Json>,"side": string,"signal_id": string,"status"?: Database["public"]['Enums']["order_status"],"stop_price"?: number | null,"submitted_at"?: string | null,"symbol": string,"time_in_force": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "broker"?: Database["public"]['Enums']["broker_kind"],"broker_account_id"?: string | null,"broker_order_id"?: string | null,"broker_response"?: Json | null,"client_order_id"?: string,"config_id"?: string | null,"created_at"?: string,"error_message"?: string | null,"filled_at"?: string | null,"filled_avg_price"?: number | null,"filled_qty"?: number,"id"?: string,"limit_price"?: number | null,"notional"?: number | null,"order_class"?: string | null,"order_type"?: string,"origin_config_id"?: string | null,"purpose"?: string,"qty"?: number | null,"request"?: NonNullable<Json>,"side"?: string,"signal_id"?: string,"status"?: Database["public"]['Enums']["order_status"],"stop_price"?: number | null,"submitted_at"?: string | null,"symbol"?: string,"time_in_force"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "orders_broker_account_id_fkey"
      columns: ["broker_account_id"]
isOneToOne: false
      referencedRelation: "broker_accounts"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "orders_config_id_fkey"
      columns: ["config_id"]
isOneToOne: false
      referencedRelation: "webhook_configs"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "orders_signal_id_fkey"
      columns: ["signal_id"]
isOneToOne: false
      referencedRelation: "webhook_signals"
      referencedColumns: ["id"]
    }
                  ]
                },"positions": {
                  Row: {
                    "avg_entry_price": number | null,"config_id": string,"id": string,"qty": number,"realized_pnl": number,"symbol": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "avg_entry_price"?: number | null,"config_id": string,"id"?: string,"qty"?: number,"realized_pnl"?: number,"symbol": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "avg_entry_price"?: number | null,"config_id"?: string,"id"?: string,"qty"?: number,"realized_pnl"?: number,"symbol"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "positions_config_id_fkey"
      columns: ["config_id"]
isOneToOne: false
      referencedRelation: "webhook_configs"
      referencedColumns: ["id"]
    }
                  ]
                },"signal_status_transitions": {
                  Row: {
                    "from_status": Database["public"]['Enums']["signal_status"],"to_status": Database["public"]['Enums']["signal_status"]
                  }
                  ComputedFields: never
                  Insert: {
                    "from_status": Database["public"]['Enums']["signal_status"],"to_status": Database["public"]['Enums']["signal_status"]
                  }
                  Update: {
                    "from_status"?: Database["public"]['Enums']["signal_status"],"to_status"?: Database["public"]['Enums']["signal_status"]
                  }
                  Relationships: [
                    
                  ]
                },"sim_orders": {
                  Row: {
                    "config_id": string,"created_at": string,"filled_avg_price": number | null,"id": string,"leg": string | null,"limit_price": number | null,"order_id": string | null,"order_type": string,"parent_order_id": string | null,"qty": number | null,"side": string,"status": string,"stop_price": number | null,"stop_reached": boolean,"symbol": string,"trail_percent": number | null,"trail_price": number | null,"watermark": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "config_id": string,"created_at"?: string,"filled_avg_price"?: number | null,"id"?: string,"leg"?: string | null,"limit_price"?: number | null,"order_id"?: string | null,"order_type": string,"parent_order_id"?: string | null,"qty"?: number | null,"side": string,"status"?: string,"stop_price"?: number | null,"stop_reached"?: boolean,"symbol": string,"trail_percent"?: number | null,"trail_price"?: number | null,"watermark"?: number | null
                  }
                  Update: {
                    "config_id"?: string,"created_at"?: string,"filled_avg_price"?: number | null,"id"?: string,"leg"?: string | null,"limit_price"?: number | null,"order_id"?: string | null,"order_type"?: string,"parent_order_id"?: string | null,"qty"?: number | null,"side"?: string,"status"?: string,"stop_price"?: number | null,"stop_reached"?: boolean,"symbol"?: string,"trail_percent"?: number | null,"trail_price"?: number | null,"watermark"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "sim_orders_config_id_fkey"
      columns: ["config_id"]
isOneToOne: false
      referencedRelation: "webhook_configs"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "sim_orders_order_id_fkey"
      columns: ["order_id"]
isOneToOne: true
      referencedRelation: "orders"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "sim_orders_parent_order_id_fkey"
      columns: ["parent_order_id"]
isOneToOne: false
      referencedRelation: "orders"
      referencedColumns: ["id"]
    }
                  ]
                },"webhook_configs": {
                  Row: {
                    "created_at": string,"description": string | null,"id": string,"is_active": boolean,"name": string,"notification_preferences": NonNullable<Json>,"security_token_hash": string,"settings": NonNullable<Json>,"updated_at": string,"user_id": string,"webhook_url": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"description"?: string | null,"id"?: string,"is_active"?: boolean,"name": string,"notification_preferences"?: NonNullable<Json>,"security_token_hash"?: string,"settings"?: NonNullable<Json>,"updated_at"?: string,"user_id"?: string,"webhook_url"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"description"?: string | null,"id"?: string,"is_active"?: boolean,"name"?: string,"notification_preferences"?: NonNullable<Json>,"security_token_hash"?: string,"settings"?: NonNullable<Json>,"updated_at"?: string,"user_id"?: string,"webhook_url"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"webhook_signals": {
                  Row: {
                    "action": string,"alert": NonNullable<Json>,"attempts": number,"claimed_at": string | null,"config_id": string | null,"dedupe_key": string,"error_code": string | null,"error_message": string | null,"id": string,"next_attempt_at": string | null,"order_type": string | null,"origin_config_id": string | null,"payload": NonNullable<Json>,"plan": Json | null,"price": number | null,"processed_at": string | null,"quantity": number | null,"reason": string | null,"received_at": string,"status": Database["public"]['Enums']["signal_status"],"ticker": string,"updated_at": string,"user_id": string,"warnings": (string)[]
                  }
                  ComputedFields: never
                  Insert: {
                    "action": string,"alert": NonNullable<Json>,"attempts"?: number,"claimed_at"?: string | null,"config_id"?: string | null,"dedupe_key": string,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"next_attempt_at"?: string | null,"order_type"?: string | null,"origin_config_id"?: string | null,"payload": NonNullable<Json>,"plan"?: Json | null,"price"?: number | null,"processed_at"?: string | null,"quantity"?: number | null,"reason"?: string | null,"received_at"?: string,"status"?: Database["public"]['Enums']["signal_status"],"ticker": string,"updated_at"?: string,"user_id": string,"warnings"?: (string)[]
                  }
                  Update: {
                    "action"?: string,"alert"?: NonNullable<Json>,"attempts"?: number,"claimed_at"?: string | null,"config_id"?: string | null,"dedupe_key"?: string,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"next_attempt_at"?: string | null,"order_type"?: string | null,"origin_config_id"?: string | null,"payload"?: NonNullable<Json>,"plan"?: Json | null,"price"?: number | null,"processed_at"?: string | null,"quantity"?: number | null,"reason"?: string | null,"received_at"?: string,"status"?: Database["public"]['Enums']["signal_status"],"ticker"?: string,"updated_at"?: string,"user_id"?: string,"warnings"?: (string)[]
                  }
                  Relationships: [
                    {
      foreignKeyName: "webhook_signals_config_id_fkey"
      columns: ["config_id"]
isOneToOne: false
      referencedRelation: "webhook_configs"
      referencedColumns: ["id"]
    }
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "broker_account_keys":
{ Args: { "p_account_id": string,"p_user_id": string }; Returns: {
              "environment": Database["public"]['Enums']["broker_environment"],"key_id": string,"secret_key": string,"status": Database["public"]['Enums']["broker_account_status"]
            }[]
                           },
"broker_keys_secret":
{ Args: { "p_key_id": string,"p_secret_key": string }; Returns: string
                           },
"claim_notifications":
{ Args: { "p_limit"?: number }; Returns: Json[]
                           },
"claim_signals":
{ Args: { "p_limit"?: number,"p_signal_id"?: string,"p_stale_after_seconds"?: number }; Returns: Json[]
                           },
"conclude_signal":
{ Args: { "p_reason"?: string,"p_signal_id": string }; Returns: Json
                           },
"create_broker_account":
{ Args: { "p_account_number": string,"p_environment": Database["public"]['Enums']["broker_environment"],"p_key_id": string,"p_label": string,"p_max_accounts": number,"p_secret_key": string,"p_user_id": string }; Returns: string
                           },
"delete_broker_account":
{ Args: { "p_account_id": string,"p_user_id": string }; Returns: undefined
                           },
"finish_broker_requests":
{ Args: { "p_ids": (number)[] }; Returns: undefined
                           },
"finish_signal":
{ Args: { "p_error_code"?: string,"p_error_message"?: string,"p_reason": string,"p_signal_id": string,"p_status": Database["public"]['Enums']["signal_status"] }; Returns: Json
                           },
"ingest_signal":
{ Args: { "p_alert": Json,"p_body_legacy": boolean,"p_body_token_hash": string,"p_config_id": string,"p_dedupe_key": string,"p_default_duplicate_window_seconds": number,"p_default_rate_limit_per_minute": number,"p_outer_legacy": boolean,"p_outer_token_hash": string,"p_parse_failed": boolean,"p_payload": Json,"p_payload_invalid": boolean,"p_warnings": (string)[] }; Returns: Json
                           },
"is_notification_event":
{ Args: { "p_event": string }; Returns: boolean
                           },
"js_trim":
{ Args: { "p": string }; Returns: string
                           },
"json_number_within":
{ Args: { "p": Json,"p_exclusive_min": boolean,"p_integer": boolean,"p_max": number,"p_min": number }; Returns: boolean
                           },
"log_signal_event":
{ Args: { "p_detail": Json,"p_event": string,"p_signal_id": string }; Returns: undefined
                           },
"mark_broker_account":
{ Args: { "p_account_id": string,"p_account_number"?: string,"p_user_id": string,"p_valid": boolean }; Returns: undefined
                           },
"notification_preferences_issue":
{ Args: { "p": Json,"p_allow_http": boolean }; Returns: string
                           },
"order_status_never_fills":
{ Args: { "p_status": Database["public"]['Enums']["order_status"] }; Returns: boolean
                           },
"orders_outcome":
{ Args: { "p_signal_id": string }; Returns: string
                           },
"orders_to_follow":
{ Args: { "p_limit"?: number }; Returns: Json[]
                           },
"park_signal":
{ Args: { "p_delay_ms": number,"p_reason": string,"p_signal_id": string }; Returns: Json
                           },
"queue_notifications":
{ Args: { "p_event": string,"p_payload": Json,"p_signal": Omit<Database["public"]['Tables']["webhook_signals"]['Row'], Database["public"]['Tables']["webhook_signals"]['ComputedFields']> }; Returns: undefined
                           },
"record_decision":
{ Args: { "p_broker": Database["public"]['Enums']["broker_kind"],"p_detail": Json,"p_intents": Json,"p_signal_id": string }; Returns: Json
                           },
"record_notification_attempt":
{ Args: { "p_error": string,"p_id": string,"p_max_attempts"?: number,"p_ok": boolean,"p_status_code": number }; Returns: Json
                           },
"record_order_intent":
{ Args: { "p_broker": Database["public"]['Enums']["broker_kind"],"p_intent": Json,"p_signal_id": string }; Returns: Json
                           },
"record_order_update":
{ Args: { "p_client_order_id": string,"p_update": Json }; Returns: Json
                           },
"record_plan":
{ Args: { "p_broker": Database["public"]['Enums']["broker_kind"],"p_detail": Json,"p_intents": Json,"p_plan": Json,"p_signal_id": string }; Returns: Json
                           },
"rekey_broker_account":
{ Args: { "p_account_id": string,"p_account_number": string,"p_key_id": string,"p_secret_key": string,"p_user_id": string }; Returns: undefined
                           },
"rename_broker_account":
{ Args: { "p_account_id": string,"p_label": string,"p_user_id": string }; Returns: undefined
                           },
"retry_signal":
{ Args: { "p_signal_id": string }; Returns: Json
                           },
"rotate_webhook_token":
{ Args: { "p_config_id": string }; Returns: string
                           },
"schedule_process_order_sweep":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"schedule_signal_retry":
{ Args: { "p_delay_ms": number,"p_reason": string,"p_signal_id": string }; Returns: Json
                           },
"set_signal_plan":
{ Args: { "p_plan": Json,"p_signal_id": string }; Returns: undefined
                           },
"settings_issue":
{ Args: { "p": Json }; Returns: string
                           },
"settings_issue_without_fill_wait":
{ Args: { "p": Json }; Returns: string
                           },
"signal_status_is_final":
{ Args: { "p_status": Database["public"]['Enums']["signal_status"] }; Returns: boolean
                           },
"sim_book":
{ Args: { "p_config_id": string,"p_symbol": string }; Returns: Json
                           },
"sim_cancel":
{ Args: { "p_ids": (string)[],"p_reason": string }; Returns: number
                           },
"sim_cancel_open_orders":
{ Args: { "p_config_id": string,"p_symbol": string }; Returns: number
                           },
"sim_cancel_order":
{ Args: { "p_broker_order_id": string,"p_config_id": string }; Returns: number
                           },
"sim_cross":
{ Args: { "p_config_id": string,"p_price": number,"p_symbol": string }; Returns: Json
                           },
"sim_fill":
{ Args: { "p_id": string,"p_price": number }; Returns: undefined
                           },
"sim_fill_order":
{ Args: { "p_client_order_id": string,"p_price": number }; Returns: Json
                           },
"sim_lock_book":
{ Args: { "p_config_id": string,"p_symbol": string }; Returns: undefined
                           },
"sim_market":
{ Args: { "p_config_id": string,"p_price": number,"p_symbol": string }; Returns: Json
                           },
"sim_refresh_legs":
{ Args: { "p_parent_id": string }; Returns: undefined
                           },
"sim_submit":
{ Args: { "p_client_order_id": string,"p_price": number }; Returns: Json
                           },
"sim_try_fill":
{ Args: { "p_id": string,"p_marketable": boolean,"p_price": number }; Returns: boolean
                           },
"take_broker_requests":
{ Args: { "p_account": string,"p_limit"?: number,"p_max_flight"?: string,"p_n": number,"p_window"?: string }; Returns: Json
                           },
"token_hashes_match":
{ Args: { "p_given": string,"p_stored": string }; Returns: boolean
                           },
"wait_signal":
{ Args: { "p_delay_ms": number,"p_plan": Json,"p_reason": string,"p_signal_id": string }; Returns: Json
                           }
          }
          Enums: {
            "broker_account_status": "active"|"invalid","broker_environment": "paper"|"live","broker_kind": "alpaca"|"simulation","delivery_status": "pending"|"delivered"|"failed","notification_channel": "webhook"|"discord"|"slack","order_status": "pending_submit"|"new"|"accepted"|"pending_new"|"accepted_for_bidding"|"partially_filled"|"filled"|"done_for_day"|"canceled"|"expired"|"replaced"|"pending_cancel"|"pending_replace"|"stopped"|"rejected"|"suspended"|"calculated"|"held"|"failed","signal_status": "queued"|"processing"|"retrying"|"waiting"|"submitted"|"filled"|"partially_filled"|"canceled"|"rejected"|"ignored"|"failed"
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            "broker_account_status": ["active", "invalid"],"broker_environment": ["paper", "live"],"broker_kind": ["alpaca", "simulation"],"delivery_status": ["pending", "delivered", "failed"],"notification_channel": ["webhook", "discord", "slack"],"order_status": ["pending_submit", "new", "accepted", "pending_new", "accepted_for_bidding", "partially_filled", "filled", "done_for_day", "canceled", "expired", "replaced", "pending_cancel", "pending_replace", "stopped", "rejected", "suspended", "calculated", "held", "failed"],"signal_status": ["queued", "processing", "retrying", "waiting", "submitted", "filled", "partially_filled", "canceled", "rejected", "ignored", "failed"]
          }
        }
} as const
